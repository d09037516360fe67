"""MongoDB adapters: repositories for jobs, snapshots, reports and recoveries.

Every collection name and index lives in ``storage.mongo``; snapshot data is insert-only
(``storage.snapshots``)."""
