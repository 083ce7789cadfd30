// Package tenantdb creates, updates and retires pool tenants' databases and
// login roles inside the shared PostgreSQL. It runs in the provisioning
// Lambda during `pulumi up`. Every operation is idempotent, and data is
// dropped only when the caller asks for it explicitly.
package tenantdb

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/saas-platform/saas-platform/internal/tenantid"
)

// Tenant is a tenant's database and login role (they share one name): a
// pool tenant's in the shared instance, a silo tenant's in its own.
type Tenant struct {
	Name string
	// ConnectionLimit caps a pool tenant's login; a silo tenant's login
	// has NoConnectionLimit: the instance is the tenant's alone.
	ConnectionLimit int
}

// NoConnectionLimit is PostgreSQL's "no limit" for a role.
const NoConnectionLimit = -1

func (t Tenant) validate() error {
	// Defence in depth: the stack file's validator refuses such ids, but
	// a name that reached here another way must not take over the master
	// user, a built-in role or another database.
	if err := tenantid.CheckDatabase(t.Name); err != nil {
		return fmt.Errorf("tenant database: %w", err)
	}
	if t.ConnectionLimit < 1 && t.ConnectionLimit != NoConnectionLimit {
		return fmt.Errorf("tenant %s: connection limit %d must be at least 1, or %d (none)", t.Name, t.ConnectionLimit, NoConnectionLimit)
	}
	return nil
}

// Ensure creates the tenant's role and database, or brings existing ones to
// the wanted state: login allowed with password, connection limit applied,
// the database owned by the role and closed to every other role.
// It works as the RDS master user, which has CREATEROLE and CREATEDB but is
// not a superuser.
func Ensure(ctx context.Context, conn *pgx.Conn, t Tenant, password string) error {
	if err := t.validate(); err != nil {
		return err
	}
	if password == "" || strings.ContainsRune(password, 0) {
		return fmt.Errorf("tenant %s: the password must be non-empty text", t.Name)
	}
	role := quoteIdent(t.Name)
	roleExists, err := exists(ctx, conn, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", t.Name)
	if err != nil {
		return err
	}
	verb := "CREATE ROLE %s WITH LOGIN PASSWORD %s CONNECTION LIMIT %d"
	if roleExists {
		verb = "ALTER ROLE %s WITH LOGIN PASSWORD %s CONNECTION LIMIT %d"
	}
	steps := []string{
		fmt.Sprintf(verb, role, quoteLiteral(password), t.ConnectionLimit),
		// CREATE DATABASE ... OWNER needs the creator to be able to act as
		// the owner; a CREATEROLE user may grant that to itself.
		fmt.Sprintf("GRANT %s TO CURRENT_USER", role),
	}
	if err := run(ctx, conn, t.Name, steps...); err != nil {
		return err
	}

	dbExists, err := exists(ctx, conn, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", t.Name)
	if err != nil {
		return err
	}
	steps = nil
	if !dbExists {
		// CREATE DATABASE cannot run in a transaction: each step is its own statement.
		steps = append(steps, fmt.Sprintf("CREATE DATABASE %s OWNER %s", role, role))
	}
	steps = append(steps,
		fmt.Sprintf("ALTER DATABASE %s OWNER TO %s", role, role),
		fmt.Sprintf("REVOKE ALL ON DATABASE %s FROM PUBLIC", role),
		fmt.Sprintf("GRANT CONNECT, TEMPORARY ON DATABASE %s TO %s", role, role),
	)
	return run(ctx, conn, t.Name, steps...)
}

// Retire is called when the tenant leaves the stack file. By default it
// only stops the tenant from logging in and closes its sessions: the data
// stays, and Ensure brings the tenant back. With drop it removes the
// database and the role.
func Retire(ctx context.Context, conn *pgx.Conn, name string, drop bool) error {
	if err := tenantid.CheckDatabase(name); err != nil {
		return fmt.Errorf("tenant database: %w", err)
	}
	role := quoteIdent(name)
	roleExists, err := exists(ctx, conn, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", name)
	if err != nil {
		return err
	}
	if drop {
		steps := []string{fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", role)}
		if roleExists {
			steps = append(steps, fmt.Sprintf("DROP ROLE %s", role))
		}
		return run(ctx, conn, name, steps...)
	}
	if !roleExists {
		return nil
	}
	return stopLogin(ctx, conn, name)
}

// stopLogin stops a role from logging in and closes its sessions; its data
// stay.
func stopLogin(ctx context.Context, conn *pgx.Conn, name string) error {
	if err := run(ctx, conn, name, fmt.Sprintf("ALTER ROLE %s WITH NOLOGIN", quoteIdent(name))); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", name); err != nil {
		return fmt.Errorf("%s: closing sessions: %w", name, err)
	}
	return nil
}

func exists(ctx context.Context, conn *pgx.Conn, query, name string) (bool, error) {
	var found bool
	if err := conn.QueryRow(ctx, query, name).Scan(&found); err != nil {
		return false, fmt.Errorf("tenant %s: %w", name, err)
	}
	return found, nil
}

func run(ctx context.Context, conn *pgx.Conn, name string, statements ...string) error {
	for _, sql := range statements {
		if _, err := conn.Exec(ctx, sql); err != nil {
			// The statement may hold a password: name only its first words.
			return fmt.Errorf("tenant %s: %s: %w", name, firstWords(sql, 2), err)
		}
	}
	return nil
}

func firstWords(s string, n int) string {
	words := strings.Fields(s)
	if len(words) > n {
		words = words[:n]
	}
	return strings.Join(words, " ")
}

// quoteIdent quotes a PostgreSQL identifier, doubling embedded quotes.
func quoteIdent(name string) string {
	return pgx.Identifier{name}.Sanitize()
}

// quoteLiteral quotes a string literal for statements that take no
// parameters (CREATE/ALTER ROLE ... PASSWORD). standard_conforming_strings
// is on in every supported PostgreSQL, so only quotes need doubling.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
