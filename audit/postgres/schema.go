package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// migrations are the schema's versions, in order; migration i brings the
// schema to version i+1. A released migration is never edited: a change
// is a new one. "$s" stands for the schema and "$ts" for the tablespace
// clause.
var migrations = []string{
	// 1: the log's key, the events with the Merkle tree's stored hashes,
	// the signed checkpoints; append-only for everyone, whatever the
	// grants.
	`CREATE TABLE $s.log_info (
		id boolean PRIMARY KEY DEFAULT true CHECK (id),
		origin text NOT NULL,
		verifier_key text NOT NULL,
		signing_key text
	) $ts;
	CREATE TABLE $s.events (
		seq bigint PRIMARY KEY CHECK (seq > 0),
		time_ns bigint NOT NULL,
		patient text,
		user_id text NOT NULL,
		organisation text NOT NULL,
		custodian text,
		action text NOT NULL,
		service text NOT NULL,
		outcome text NOT NULL,
		purpose smallint NOT NULL,
		correlation_id text,
		record bytea NOT NULL,
		hashes bytea NOT NULL,
		frontier bytea
	) $ts;
	CREATE INDEX events_patient ON $s.events (patient, seq) $ts WHERE patient IS NOT NULL;
	CREATE INDEX events_user ON $s.events (user_id, seq) $ts;
	CREATE INDEX events_organisation ON $s.events (organisation, seq) $ts;
	CREATE INDEX events_custodian ON $s.events (custodian, seq) $ts WHERE custodian IS NOT NULL;
	CREATE INDEX events_time ON $s.events (time_ns, seq) $ts;
	CREATE TABLE $s.checkpoints (
		size bigint PRIMARY KEY CHECK (size > 0),
		signed bytea NOT NULL
	) $ts;
	CREATE FUNCTION $s.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		RAISE EXCEPTION 'audit records are append-only' USING ERRCODE = 'insufficient_privilege';
	END $$;
	CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON $s.events
		FOR EACH ROW EXECUTE FUNCTION $s.refuse_change();
	CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON $s.events
		FOR EACH STATEMENT EXECUTE FUNCTION $s.refuse_change();
	CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON $s.checkpoints
		FOR EACH ROW EXECUTE FUNCTION $s.refuse_change();
	CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON $s.checkpoints
		FOR EACH STATEMENT EXECUTE FUNCTION $s.refuse_change();
	CREATE TRIGGER log_info_append_only BEFORE UPDATE OR DELETE ON $s.log_info
		FOR EACH ROW EXECUTE FUNCTION $s.refuse_change();`,
}

// packageVersion is the version of the schema this package creates and
// reads: the number of its migrations.
var packageVersion = len(migrations)

// grants gives the application role what it needs and nothing more.
const grants = `REVOKE ALL ON ALL TABLES IN SCHEMA $s FROM PUBLIC;
	GRANT USAGE ON SCHEMA $s TO $role;
	GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA $s TO $role;
	REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA $s FROM $role;
	GRANT EXECUTE ON FUNCTION $s.refuse_change() TO $role;`

// lockKey is an advisory lock key for one purpose in one schema, so that
// stores in different schemas of a database do not wait for each other.
func lockKey(purpose, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("shcrkit/audit/postgres " + purpose + " " + schema))
	return int64(h.Sum64())
}

func (c *config) expand(sql string) string {
	ts := ""
	if c.tablespace != "" {
		ts = "TABLESPACE " + c.tablespace
	}
	return strings.NewReplacer("$s.", c.schema+".", "$s ", c.schema+" ", "$s;", c.schema+";", "$ts", ts, "$role", c.appRole).Replace(sql)
}

// migrate brings the schema to packageVersion, and grants the application
// role its rights when one is configured. The work is one transaction
// under an advisory lock, so two instances starting at once do it once,
// and a failure leaves the schema as it was.
func migrate(ctx context.Context, conn *pgx.Conn, c *config) error {
	v, err := schemaVersion(ctx, conn, c)
	if err != nil {
		return err
	}
	if v > packageVersion {
		return fmt.Errorf("%w: %s is at version %d, newer than this package's %d", ErrSchema, c.schema, v, packageVersion)
	}
	if v == packageVersion && c.appRole == "" {
		return nil
	}
	if c.noMigrate {
		if v == 0 {
			return fmt.Errorf("%w: there is no audit store in schema %s", ErrSchema, c.schema)
		}
		if v < packageVersion {
			return fmt.Errorf("%w: %s is at version %d, this package needs %d", ErrSchema, c.schema, v, packageVersion)
		}
		return nil
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return classify("migrating the schema", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey("migrate", c.schema)); err != nil {
		return classify("migrating the schema", err)
	}
	if _, err := tx.Exec(ctx, c.expand(`CREATE SCHEMA IF NOT EXISTS $s;
		CREATE TABLE IF NOT EXISTS $s.schema_version (
			version integer PRIMARY KEY,
			applied timestamptz NOT NULL DEFAULT now()
		) $ts`)); err != nil {
		return schemaError("creating the schema", err)
	}
	if err := tx.QueryRow(ctx, c.expand("SELECT coalesce(max(version), 0) FROM $s.schema_version")).Scan(&v); err != nil {
		return classify("reading the schema version", err)
	}
	if v > packageVersion {
		return fmt.Errorf("%w: %s is at version %d, newer than this package's %d", ErrSchema, c.schema, v, packageVersion)
	}
	for ; v < packageVersion; v++ {
		if _, err := tx.Exec(ctx, c.expand(migrations[v])); err != nil {
			return schemaError(fmt.Sprintf("migrating to version %d", v+1), err)
		}
		if _, err := tx.Exec(ctx, c.expand("INSERT INTO $s.schema_version (version) VALUES ($1)"), v+1); err != nil {
			return schemaError("recording the schema version", err)
		}
	}
	if c.appRole != "" {
		if _, err := tx.Exec(ctx, c.expand(grants)); err != nil {
			return schemaError("granting the application role", err)
		}
	}
	return classify("committing the schema", tx.Commit(ctx))
}

// schemaVersion reads the version without taking any lock or needing any
// right beyond reading: the application role's Open does only this.
func schemaVersion(ctx context.Context, conn *pgx.Conn, c *config) (int, error) {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", c.schema+".schema_version").Scan(&exists); err != nil {
		return 0, classify("reading the schema version", err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	if err := conn.QueryRow(ctx, c.expand("SELECT coalesce(max(version), 0) FROM $s.schema_version")).Scan(&v); err != nil {
		return 0, classify("reading the schema version", err)
	}
	return v, nil
}

// schemaError is classify for DDL, where any refusal is a schema problem.
func schemaError(op string, err error) error {
	err = classify(op, err)
	if errors.Is(err, ErrUnavailable) || errors.Is(err, ErrTimeout) || errors.Is(err, ErrSchema) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrSchema, err)
}
