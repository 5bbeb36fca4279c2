/// The long texts of `--help`: each command's discussion, in one place.
enum Help {
    static let backup = """
        The file is written as FILE.part, synced and renamed when complete (mode 0600: a \
        backup holds user data and password hashes), then read to its end like \
        `inspect --verify`. A file that does not verify is renamed FILE.unverified.

        --output is checked before the server is asked: an existing file needs --force; \
        a directory, a device, a FIFO, a socket, '-' or a missing directory is refused.
        """

    static let root = """
        Inspects backup archives, decides whether the running Connectware can restore \
        them, and prints the vendor's cross-version procedure as a step plan. \
        Exit codes are listed in the README.
        """

    static let host = """
        Talks to the Docker Engine API over its socket (DOCKER_HOST=unix://…, default \
        /var/run/docker.sock) and prints the compose project, its directory, the version(s) \
        the images carry, every core container and its state, and the project's volumes with \
        their sizes and users. Mixed versions are shown as found.

        Exit codes: 0 shown; 69 Docker unreachable or no installation; 77 permission denied \
        on the socket; 78 DOCKER_HOST not a unix socket.
        """

    static let inspect = """
        Reads the archive with libarchive without extracting anything. Without --verify it \
        stops at the first metadata file that names a version; --verify reads every byte, \
        reports damage with the entry and offset, checks gzip CRCs and prints the file's SHA-256.

        Exit codes: 0 inspected; 64 bad --assume-version; 65 not an archive, damaged, or the \
        version evidence disagrees or is missing; 66 the file is missing or unreadable.
        """

    static let migrate = """
        --dry-run inspects the backup, finds the installation through Docker, reads its \
        version there and prints the plan (exit codes as for `plan`: 0, 3, 4, 5). \
        --precheck-only runs every check a migration needs and changes nothing: exit 0 \
        when all pass, 69 when one fails.

        Otherwise the plan is carried out step by step, each transition written to the \
        run's journal in the state directory before and after the step. On a terminal \
        it asks before every step that changes the installation; --yes runs unattended \
        (and is required when stdin is not a terminal). --resume [RUN] carries on an \
        interrupted or failed run; `cwmigrate rollback RUN` goes back. A report (Markdown \
        and JSON) is written beside the journal; its path is the last line printed.

        --plan FILE carries out a plan saved with `cwmigrate plan --json --output FILE` (or \
        written by `runbook --format ansible`), exactly as it was reviewed, after checking that \
        the world is still the one it was made for: the backup's SHA-256, the running version, \
        the installation and the knowledge files (by their SHA-256). If anything changed it \
        refuses (exit 65) and says what. With --plan, --compat defaults to the files the plan \
        was made from.

        The backup is read and verified to its end before any plan is made; a truncated, \
        damaged or self-contradicting archive stops with exit 65.

        Exit codes: 0 the run completed; 10 paused (a step was declined); 11 the restore \
        was refused at the older version too; 64 usage (also: no terminal and no --yes); \
        65, 66 the backup (65 also: the run's rollback began, the run began on another \
        host, a journal cannot be read, no plan to carry out, or a saved --plan that does \
        not hold); 69 a check or step failed (the run can be resumed or rolled back); 73, \
        74, 78 the state directory; 75 another run holds the installation's \
        lock; 77 credentials refused.
        """

    static let plan = """
        The whole archive is read and verified before deciding (--quick reads only up to its \
        metadata, and the plan then says it was made on a partial read). Every fact the plan \
        uses is shown with its source; where sources disagree, both are shown, and what a \
        server said outranks an operator's file, which outranks the shipped data.

        --json --output FILE saves the plan; `cwmigrate migrate --plan FILE` carries out \
        exactly that plan after checking that the backup, the running version, the \
        installation and the knowledge are still the ones it was made from.

        Exit codes: 0 the backup restores directly, 3 a downgrade is required, 4 compatibility \
        is unknown (also: no plan, see Why), 5 the running Connectware must be upgraded first; \
        64 usage (also: a --refusal naming no version), 65 a bad compat or playbook file, a \
        truncated, damaged or self-contradicting backup, 66 a missing file, 73 the output \
        cannot be written.
        """

    static let report = """
        RUN is a run id as `cwmigrate runs` lists it, or `last` (the default): the newest run in \
        the state directory. The HTML is one self-contained file: a timeline of the steps with the \
        downtime marked and cwmigrate's own work told apart from waiting, the artifacts with their \
        sizes and SHA-256, the versions before and after, and what decided the plan.

        --fleet DIR reads the reports the generated Ansible playbook fetched (DIR/<host>/*.report.json, \
        the newest per host) and makes one page: a row per host, failures first.

        --output is checked before anything is read: an existing file needs --force; a \
        directory, a device, a FIFO, a socket or a file the command reads is refused.

        Exit codes: 0 written; 64 usage; 65 a journal that cannot be read as one; 66 no such run, \
        no runs, or no host reports in DIR; 73 the output cannot be written; 74 the state directory \
        cannot be read.
        """

    static let restore = """
        The backup is verified first. With --running, cwmigrate decides from what it knows \
        whether that version restores the backup; a predicted refusal stops before anything \
        is uploaded. A refusal by the server that names the last version restoring the backup \
        is recorded in the learned compat file (with the server's version and the time), so \
        later plans know it, and the plan that follows is decided as `plan` decides it. A \
        restore that failed for another reason (disk full, a broken dump) is not a refusal: \
        nothing is learned and no plan is suggested. Exit codes as for `plan` (0 restored, \
        3 a downgrade is required, 4 refused without a named version or no plan follows, \
        5 upgrade first), 12 the restore failed for a reason other than the backup's version, \
        and the error codes. A restore replaces Connectware's database: off a terminal it \
        needs --yes. With --yes, a prediction an example barrier made (as in \
        examples/compat-example.yml) is not acted on unless --accept-example-data says the \
        example data is meant (exit 64, nothing uploaded).
        """

    static let rollback = """
        For a run that did not complete (failed, paused or interrupted): the volumes the run \
        removed or installed over are restored from its verified snapshots (what they hold \
        now is snapshotted first), the version the run found is installed again and started, \
        the compose file and .env are put back from the run's copies, and a restore the run \
        made (or that failed) at that version is undone with its fresh backup. Safe to repeat; \
        a rollback that was interrupted is run again the same way. Without RUN, this \
        installation's newest unfinished run. The run's report is rewritten.

        Exit codes: 0 rolled back; 10 paused: Connectware refused the admin password the \
        rollback needs (the production one, or the backup's where a restore at the run's \
        version may have replaced the users; the hint names the option to give), run it again \
        with the right one; 64 usage (also: no terminal and no --yes); 65 the run has ended or \
        began on another host; 66 no such run; 69 the rollback did not finish (run it again); \
        75 another process holds the installation's lock; 77 credentials refused by --login.
        """

    static let runbook = """
        The runbook holds the same steps and commands as `cwmigrate plan`, with the backup's id and \
        SHA-256, a pre-flight checklist and, for each step, its purpose, expected output, check, \
        what to do when it fails, how to roll back and a line for initials. Names it is not given \
        (--project, --release, …) appear as <PLACEHOLDERS> with the command that finds them. \
        Templates come from playbooks/runbook/ or --templates DIR.

        --format ansible writes DIR/site.yml, DIR/inventory.example.ini, DIR/README.md, the \
        reviewed plan as DIR/plan.json and copies of the compat files it was made from \
        (--output DIR is required). Each host runs `cwmigrate migrate --plan plan.json` with \
        those files, which refuses a host where the plan does not hold.

        --output is checked before anything is read: an existing file needs --force; a \
        directory, a device, a FIFO, a socket or a file the command reads is refused.

        The backup is read and verified to its end before deciding; --quick reads only up to \
        its metadata (not with --format ansible), and the runbook then says so.

        Exit codes: 0 written; 64 usage; 65 a bad template, playbook, compat file or backup \
        (truncated, damaged or self-contradicting); \
        66 a missing file; 69 Connectware unreachable; 73 the output cannot be written.
        """

    static let runs = "Exit codes: 0 listed (also when there are none); 73, 74, 78 the state directory cannot be read."

    static let runsAbandon = """
        Refused while another process holds the installation's lock (the run is still going). \
        Exit codes: 0 abandoned; 65 the run has already ended; 66 no such run; 75 the run is \
        still going.
        """

    static let version = """
        `cwmigrate --version` prints the version alone. This command adds the shared \
        libraries found on this host and which compressions libarchive reads and writes \
        here: built in, through an external program (which must then be on PATH), or not at all.
        """

    static let volumes = """
        Volumes are named as Docker names them (connectware_postgresql) or as the compose \
        file does (postgresql). Snapshots are zstd-compressed tar files with a manifest \
        inside and a <file>.manifest.json and <file>.sha256 beside them; `cwmigrate inspect` \
        reads them. A volume is removed only when the playbook's set names it (never certs), \
        no container uses it, and a verified snapshot of it is given.

        Exit codes: 0 done; 64 usage (or --yes missing off a terminal); 65 the snapshot does \
        not verify; 66 no such volume or file; 69 Docker unreachable; 73 the output cannot \
        be written; 75 the volume is in use or not empty; 77 not allowed (not root, or a \
        volume outside the removable set).
        """

    static let volumesSnapshot = "The volume must not be in use by a running container (stop Connectware first)."

    static let volumesRestore = """
        The snapshot is verified first (manifest, SHA-256, every entry). The volume must be \
        unused by any container and empty; an absent volume is created as it was.
        """

    static let volumesRemove = """
        Refused unless the volume is in the removable set (postgresql and service-manager \
        unless --removable says otherwise; never certs), no container uses it, and \
        --snapshot names a snapshot of it that verifies, nothing in the volume changed \
        after the snapshot began (unless --force), and a snapshot of postgresql holds a \
        PostgreSQL data directory (PG_VERSION).
        """
}
