import GRDB

extension ControlPlaneStore {
    /// The schema, as versioned migrations. Append new migrations; never edit a released one.
    ///
    /// Each ECS object is a JSON document (`document`, the ECS shape) plus the indexed columns lookups need.
    /// Unique keys guard races: `(family, revision)` makes two concurrent registrations of one family take
    /// distinct revisions, `(cluster, name)` makes two CreateService calls of one name collide.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: clusters, task definitions, services, tasks, instances, attributes, settings, tags") { db in
            try db.execute(sql: """
                CREATE TABLE cluster (
                    name TEXT PRIMARY KEY NOT NULL,
                    arn TEXT NOT NULL UNIQUE,
                    status TEXT NOT NULL,
                    document TEXT NOT NULL
                );
                CREATE TABLE taskDefinition (
                    family TEXT NOT NULL,
                    revision INTEGER NOT NULL CHECK (revision > 0),
                    arn TEXT NOT NULL UNIQUE,
                    status TEXT NOT NULL,
                    document TEXT NOT NULL,
                    PRIMARY KEY (family, revision)
                );
                CREATE INDEX taskDefinition_status ON taskDefinition(status, family, revision);
                CREATE TABLE service (
                    cluster TEXT NOT NULL REFERENCES cluster(name),
                    name TEXT NOT NULL,
                    arn TEXT NOT NULL UNIQUE,
                    status TEXT NOT NULL,
                    document TEXT NOT NULL,
                    PRIMARY KEY (cluster, name)
                );
                CREATE TABLE containerInstance (
                    cluster TEXT NOT NULL REFERENCES cluster(name),
                    id TEXT NOT NULL,
                    arn TEXT NOT NULL UNIQUE,
                    status TEXT NOT NULL,
                    document TEXT NOT NULL,
                    PRIMARY KEY (cluster, id)
                );
                CREATE TABLE task (
                    cluster TEXT NOT NULL REFERENCES cluster(name),
                    id TEXT NOT NULL,
                    arn TEXT NOT NULL UNIQUE,
                    family TEXT NOT NULL,
                    serviceName TEXT,
                    containerInstanceId TEXT,
                    startedBy TEXT,
                    desiredStatus TEXT NOT NULL,
                    lastStatus TEXT NOT NULL,
                    document TEXT NOT NULL,
                    PRIMARY KEY (cluster, id)
                );
                CREATE INDEX task_service ON task(cluster, serviceName);
                CREATE INDEX task_instance ON task(cluster, containerInstanceId);
                CREATE TABLE attribute (
                    cluster TEXT NOT NULL,
                    targetType TEXT NOT NULL,
                    targetId TEXT NOT NULL,
                    name TEXT NOT NULL,
                    value TEXT,
                    PRIMARY KEY (cluster, targetId, name)
                );
                CREATE TABLE accountSetting (
                    principalArn TEXT NOT NULL,
                    name TEXT NOT NULL,
                    value TEXT NOT NULL,
                    PRIMARY KEY (principalArn, name)
                );
                CREATE TABLE tag (
                    resourceArn TEXT NOT NULL,
                    key TEXT NOT NULL,
                    value TEXT NOT NULL,
                    PRIMARY KEY (resourceArn, key)
                );
                """)
        }
        return migrator
    }
}
