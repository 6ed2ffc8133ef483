import GRDB

extension ControlPlaneStore {
    /// The schema, as versioned migrations. Append new migrations; never edit a released one.
    ///
    /// Each ECS object is a JSON document (`document`, the ECS shape) plus the indexed columns lookups need.
    /// Unique keys guard races: `(family, revision)` makes two concurrent registrations of one family take
    /// distinct revisions, `(cluster, name)` makes two CreateService calls of one name collide.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration(
            "v1: clusters, task definitions, services, tasks, instances, attributes, settings, tags"
        ) { db in
            try db.execute(
                sql: """
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
        migrator.registerMigration("v2: agent protocol (join tokens, credentials, contact, desired-state index)") {
            db in
            // The join token is stored as issued, not hashed: GetJoinToken must print it again (as `docker swarm
            // join-token` does), and whoever can read this file owns the control plane anyway. Agent credentials
            // are never shown twice, so only their SHA-256 is kept.
            //
            // `desiredIndex` is the per-instance index the agent's blocking query waits on. The triggers bump it in
            // the same transaction as any write that creates a task on an instance, changes its desiredStatus or
            // moves it: every writer (API, reconciler) wakes the agent without having to remember to.
            try db.execute(
                sql: """
                    CREATE TABLE joinToken (
                        cluster TEXT PRIMARY KEY NOT NULL REFERENCES cluster(name),
                        token TEXT NOT NULL,
                        createdAt REAL NOT NULL
                    );
                    ALTER TABLE containerInstance ADD COLUMN desiredIndex INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE containerInstance ADD COLUMN credentialHash TEXT;
                    ALTER TABLE containerInstance ADD COLUMN lastContactAt REAL;
                    ALTER TABLE containerInstance ADD COLUMN agentAddress TEXT;
                    ALTER TABLE containerInstance ADD COLUMN metrics TEXT;
                    CREATE INDEX containerInstance_contact ON containerInstance(lastContactAt);
                    CREATE TRIGGER task_desired_insert AFTER INSERT ON task WHEN NEW.containerInstanceId IS NOT NULL
                    BEGIN
                        UPDATE containerInstance SET desiredIndex = desiredIndex + 1
                        WHERE cluster = NEW.cluster AND id = NEW.containerInstanceId;
                    END;
                    CREATE TRIGGER task_desired_update AFTER UPDATE OF desiredStatus, containerInstanceId ON task
                    WHEN OLD.desiredStatus IS NOT NEW.desiredStatus OR OLD.containerInstanceId IS NOT NEW.containerInstanceId
                    BEGIN
                        UPDATE containerInstance SET desiredIndex = desiredIndex + 1
                        WHERE cluster = NEW.cluster AND id IN (OLD.containerInstanceId, NEW.containerInstanceId);
                    END;
                    """)
        }
        migrator.registerMigration("v3: agent endpoints (container logs and exec)") { db in
            // The token is the agent's own secret for its endpoint; clients get it from ExecuteCommand and the
            // log-stream operation, as ECS hands out an SSM session token.
            try db.execute(
                sql: """
                    ALTER TABLE containerInstance ADD COLUMN agentEndpoint TEXT;
                    ALTER TABLE containerInstance ADD COLUMN agentToken TEXT;
                    """)
        }
        migrator.registerMigration("v4: load balancers") { db in
            // Named balancers are global, like ELB load balancers: services of any cluster attach to them by name in
            // their `loadBalancers` (kept in the service document). One listener port per balancer, so two stored
            // balancers can never fight over a port.
            try db.execute(
                sql: """
                    CREATE TABLE loadBalancer (
                        name TEXT PRIMARY KEY NOT NULL,
                        arn TEXT NOT NULL UNIQUE,
                        listenerPort INTEGER NOT NULL UNIQUE,
                        document TEXT NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v5: reconciler change index") { db in
            // One counter per cluster (`cluster.changeIndex`), bumped by triggers in the same transaction as any
            // write the scheduler reads (tasks, services, instances' status and documents, attributes). The
            // reconciler plans on a snapshot taken at one value and applies the plan only if the counter has not
            // moved since: every writer (API, agents, other reconcilers) invalidates stale plans without having to
            // remember to. Contact stamps, desired-state indexes and metrics do not touch it.
            var sql = "ALTER TABLE cluster ADD COLUMN changeIndex INTEGER NOT NULL DEFAULT 0;"
            func trigger(_ name: String, _ event: String, _ table: String, _ row: String) -> String {
                """
                CREATE TRIGGER \(name) AFTER \(event) ON \(table)
                BEGIN
                    UPDATE cluster SET changeIndex = changeIndex + 1 WHERE name = \(row).cluster;
                END;
                """
            }
            for table in ["task", "service", "attribute"] {
                sql += trigger("\(table)_reconcile_insert", "INSERT", table, "NEW")
                sql += trigger("\(table)_reconcile_update", "UPDATE", table, "NEW")
                sql += trigger("\(table)_reconcile_delete", "DELETE", table, "OLD")
            }
            sql += trigger("containerInstance_reconcile_insert", "INSERT", "containerInstance", "NEW")
            sql += trigger(
                "containerInstance_reconcile_update", "UPDATE OF status, document", "containerInstance", "NEW")
            sql += trigger("containerInstance_reconcile_delete", "DELETE", "containerInstance", "OLD")
            try db.execute(sql: sql)
        }
        migrator.registerMigration("v6: deregistration delay") { db in
            // When a stopped service task began deregistering from its load balancers (lastStatus DEACTIVATING):
            // while it is set, the agent is told RUNNING so open connections finish; clearing it releases the stop.
            // Stored, so a restarted control plane goes on waiting from the same start. The trigger wakes the agent's
            // poll on release, as `task_desired_update` does on a desiredStatus change.
            try db.execute(
                sql: """
                    ALTER TABLE task ADD COLUMN deregisteringSince REAL;
                    CREATE INDEX task_deregistering ON task(deregisteringSince) WHERE deregisteringSince IS NOT NULL;
                    CREATE TRIGGER task_deregistration_released AFTER UPDATE OF deregisteringSince ON task
                    WHEN OLD.deregisteringSince IS NOT NULL AND NEW.deregisteringSince IS NULL AND NEW.containerInstanceId IS NOT NULL
                    BEGIN
                        UPDATE containerInstance SET desiredIndex = desiredIndex + 1
                        WHERE cluster = NEW.cluster AND id = NEW.containerInstanceId;
                    END;
                    """)
        }
        migrator.registerMigration("v7: load balancer target health") { db in
            // What each balancer's own health checks say of a task's target (ELB's target health: initial, healthy,
            // unhealthy), written by whoever runs the balancer (the embedded balancers, or `ecs-lb` through
            // `FlotillaV1.ReportTargetHealth`) when it changes. The reconciler counts a task of a service behind
            // balancers as healthy only once every balancer that reports finds it healthy; the triggers move the
            // task's cluster change index so a verdict re-plans at once.
            var sql = """
                CREATE TABLE targetHealth (
                    loadBalancerName TEXT NOT NULL,
                    taskArn TEXT NOT NULL,
                    state TEXT NOT NULL,
                    updatedAt REAL NOT NULL,
                    PRIMARY KEY (loadBalancerName, taskArn)
                );
                CREATE INDEX targetHealth_task ON targetHealth(taskArn);
                """
            for (event, row) in [("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")] {
                sql += """
                    CREATE TRIGGER targetHealth_reconcile_\(event.lowercased()) AFTER \(event) ON targetHealth
                    BEGIN
                        UPDATE cluster SET changeIndex = changeIndex + 1
                        WHERE name = (SELECT cluster FROM task WHERE arn = \(row).taskArn);
                    END;
                    """
            }
            try db.execute(sql: sql)
        }
        migrator.registerMigration("v8: readiness probe") { db in
            // One row that /readyz rewrites: a real write through the WAL to the data directory, so a full disk, a
            // read-only mount or a corrupt file shows as not ready instead of as failing calls.
            try db.execute(
                sql: "CREATE TABLE readinessProbe (id INTEGER PRIMARY KEY CHECK (id = 1), checkedAt REAL NOT NULL)")
        }
        migrator.registerMigration("v9: access keys") { db in
            // SigV4 needs the secret itself to check a signature, so it cannot be hashed: it is sealed (AES-GCM) with
            // the data directory's master key, a file beside this one (`SecretBox`), never stored in the clear.
            // `instanceCluster`/`instanceID` bind an instance credential (issued at Register) to its instance.
            try db.execute(
                sql: """
                    CREATE TABLE accessKey (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL UNIQUE,
                        scope TEXT NOT NULL,
                        sealedSecret BLOB NOT NULL,
                        createdAt REAL NOT NULL,
                        expiresAt REAL,
                        instanceCluster TEXT,
                        instanceID TEXT
                    );
                    CREATE INDEX accessKey_instance ON accessKey(instanceCluster, instanceID);
                    """)
        }
        migrator.registerMigration("v10: sealed agent endpoint secrets") { db in
            // The agent's endpoint secret was a bearer token kept in the clear; it is now the key the control plane
            // MACs per-task exec and logs tokens with, sealed like access keys' secrets (`SecretBox`, the instance
            // as associated data). The clear copies are dropped: an agent stored before seals its secret at its next
            // Register (every agent registers when it starts).
            try db.execute(
                sql: """
                    ALTER TABLE containerInstance ADD COLUMN agentSecretSealed BLOB;
                    UPDATE containerInstance SET agentToken = NULL;
                    """)
        }
        migrator.registerMigration("v11: short-lived join tokens") { db in
            // Join tokens as kubeadm's bootstrap tokens: many per cluster, each `<id>.<secret>` with an expiration and
            // an optional use count, shown once by CreateJoinToken. The id is public; of the secret only its SHA-256
            // (hex) is kept, which is enough because, unlike a SigV4 secret, a bearer token is checked by comparing.
            // `usesLeft` NULL is unlimited; Register decrements it in its own transaction.
            //
            // v2's `joinToken` table held each cluster's token in plaintext: its rows are deleted here and the table
            // stays, empty and unused (a released migration is never edited). Registered agents keep their instance
            // credentials; new ones need a token made after the upgrade.
            try db.execute(
                sql: """
                    CREATE TABLE joinTokenV2 (
                        id TEXT PRIMARY KEY NOT NULL,
                        cluster TEXT NOT NULL REFERENCES cluster(name),
                        secretHash TEXT NOT NULL,
                        createdAt REAL NOT NULL,
                        expiresAt REAL NOT NULL,
                        usesLeft INTEGER CHECK (usesLeft IS NULL OR usesLeft >= 0),
                        description TEXT
                    );
                    CREATE INDEX joinTokenV2_cluster ON joinTokenV2(cluster, createdAt);
                    DELETE FROM joinToken;
                    """)
        }
        migrator.registerMigration("v12: parameter store and secrets") { db in
            // Task secrets: SSM parameters (the latest version of each; `version` counts PutParameter's writes) and
            // Secrets Manager secrets with their versions (AWSCURRENT, AWSPREVIOUS; versions without a stage are
            // deleted). Every value, String parameters too, is sealed by `SecretBox` with its row as associated
            // data (`SecretBox+Values.swift`); no column holds a value in the clear. A secret
            // scheduled for deletion keeps its row (`deletionAt`) until the window ends.
            try db.execute(
                sql: """
                    CREATE TABLE ssmParameter (
                        name TEXT PRIMARY KEY NOT NULL,
                        type TEXT NOT NULL,
                        sealedValue BLOB NOT NULL,
                        version INTEGER NOT NULL,
                        tier TEXT NOT NULL,
                        keyId TEXT,
                        description TEXT,
                        lastModifiedAt REAL NOT NULL,
                        lastModifiedUser TEXT NOT NULL
                    );
                    CREATE TABLE secret (
                        name TEXT PRIMARY KEY NOT NULL,
                        arn TEXT NOT NULL UNIQUE,
                        description TEXT,
                        kmsKeyId TEXT,
                        createdAt REAL NOT NULL,
                        lastChangedAt REAL NOT NULL,
                        lastAccessedAt REAL,
                        deletedAt REAL,
                        deletionAt REAL
                    );
                    CREATE TABLE secretVersion (
                        secretName TEXT NOT NULL REFERENCES secret(name) ON DELETE CASCADE,
                        versionId TEXT NOT NULL,
                        sealedValue BLOB NOT NULL,
                        stage TEXT,
                        createdAt REAL NOT NULL,
                        PRIMARY KEY (secretName, versionId)
                    );
                    CREATE INDEX secretVersion_stage ON secretVersion(secretName, stage);
                    """)
        }
        return migrator
    }
}
