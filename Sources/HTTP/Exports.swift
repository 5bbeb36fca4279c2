// Progress reporting lives in Vocabulary, below HTTP and ArchiveInspect alike; HTTP's
// clients (ConnectwareAPI, Migration, the CLI) keep seeing it through HTTP.
@_exported import Vocabulary
