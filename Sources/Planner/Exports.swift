// The shared vocabulary (Version, BackupID, Timestamp, installation kind) lives in Vocabulary,
// below the Planner; the Planner's clients keep seeing it through the Planner.
@_exported import Vocabulary
