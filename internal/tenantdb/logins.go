package tenantdb

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// ServiceLoginPrefix starts every service's login role. Tenant roles are
// tenant ids with hyphens turned into underscores, so a name with a hyphen
// right after "svc" can never be a tenant's.
const ServiceLoginPrefix = "svc-"

// ServiceLoginName is the login role (and schema) of a service.
func ServiceLoginName(service string) string { return ServiceLoginPrefix + service }

// ServiceLogin is one service's login in the shared database: a role of
// the same name as its schema.
type ServiceLogin struct {
	Role     string // svc-<service>
	Database string // the shared instance's platform database
	// ConnectionLimit caps the login at what the capacity rule budgets for
	// the service (databaseConnections x its maximum task count), so that
	// it cannot take the connections its instance's pool tenants were given.
	ConnectionLimit int
}

func (l ServiceLogin) validate() error {
	if !strings.HasPrefix(l.Role, ServiceLoginPrefix) || len(l.Role) > 63 || len(l.Role) == len(ServiceLoginPrefix) {
		return fmt.Errorf("service login %q must be %s<service>, at most 63 bytes", l.Role, ServiceLoginPrefix)
	}
	if l.Database == "" || len(l.Database) > 63 {
		return fmt.Errorf("service login %s: database name %q must be 1 to 63 bytes", l.Role, l.Database)
	}
	return nil
}

// EnsureServiceLogin creates the service's login role, or brings an
// existing one to the wanted state. conn must be connected to l.Database as
// the RDS master user (CREATEROLE, not a superuser).
//
// What a service may do in the shared database is decided here, once:
//   - it connects to the platform database, and no other role may unless
//     granted (CONNECT is revoked from PUBLIC, so tenants' logins, which
//     live in the same instance, cannot);
//   - it owns one schema named like its role, which is its search_path:
//     its tables are its own, and no other service can read them (a new
//     schema grants nothing to PUBLIC);
//   - it cannot create schemas, databases or roles, and has no rights on
//     the public schema beyond PostgreSQL's defaults (usage, no create).
//
// Services share data through APIs, never through each other's tables.
func EnsureServiceLogin(ctx context.Context, conn *pgx.Conn, l ServiceLogin, password string) error {
	if err := l.validate(); err != nil {
		return err
	}
	if l.ConnectionLimit < 1 {
		return fmt.Errorf("service login %s: connection limit %d must be at least 1", l.Role, l.ConnectionLimit)
	}
	if password == "" || strings.ContainsRune(password, 0) {
		return fmt.Errorf("service login %s: the password must be non-empty text", l.Role)
	}
	role, db := quoteIdent(l.Role), quoteIdent(l.Database)
	roleExists, err := exists(ctx, conn, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", l.Role)
	if err != nil {
		return err
	}
	verb := "CREATE ROLE %s WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD %s CONNECTION LIMIT %d"
	if roleExists {
		verb = "ALTER ROLE %s WITH LOGIN NOCREATEDB NOCREATEROLE PASSWORD %s CONNECTION LIMIT %d"
	}
	return run(ctx, conn, l.Role,
		fmt.Sprintf(verb, role, quoteLiteral(password), l.ConnectionLimit),
		// CREATE SCHEMA ... AUTHORIZATION needs the creator to be able to
		// act as the owner; a CREATEROLE user may grant that to itself.
		fmt.Sprintf("GRANT %s TO CURRENT_USER", role),
		fmt.Sprintf("REVOKE ALL ON DATABASE %s FROM PUBLIC", db),
		fmt.Sprintf("REVOKE CREATE ON DATABASE %s FROM %s", db, role),
		fmt.Sprintf("GRANT CONNECT ON DATABASE %s TO %s", db, role),
		fmt.Sprintf("CREATE SCHEMA IF NOT EXISTS %s AUTHORIZATION %s", role, role),
		fmt.Sprintf("ALTER SCHEMA %s OWNER TO %s", role, role),
		fmt.Sprintf("ALTER ROLE %s IN DATABASE %s SET search_path TO %s", role, db, role),
	)
}

// RetireServiceLogin is called when a service stops using the database or
// leaves the stack: the login stops and its sessions close; its schema and
// data stay, and EnsureServiceLogin brings it back.
func RetireServiceLogin(ctx context.Context, conn *pgx.Conn, role string) error {
	if err := (ServiceLogin{Role: role, Database: "-"}).validate(); err != nil {
		return err
	}
	found, err := exists(ctx, conn, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", role)
	if err != nil || !found {
		return err
	}
	return stopLogin(ctx, conn, role)
}
