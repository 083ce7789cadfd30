// Package tenantid is the one naming rule for tenant ids. The stack-file
// validator, the tenants command, the provisioner Lambda and the onboarding
// API all call Check, so that an id accepted in one place is never refused
// (or worse, misread) in another. It imports nothing but the standard
// library: the Lambda links it without Pulumi or the AWS SDK.
//
// A tenant id becomes AWS identifiers (its silo instance, secrets, SSM
// paths), and its database and login role name in PostgreSQL (the id with
// hyphens as underscores). An id is refused when that name would be one
// that already exists or means something else: the master user the program
// creates, PostgreSQL's reserved role names and keywords, the databases
// every instance has, the roles RDS creates, and the names the program
// gives the platform's own resources.
package tenantid

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Names the program gives its own database resources. components/data and
// components/observability use these constants, so the rule follows them.
const (
	// MasterUser is the master user of every PostgreSQL instance the
	// program creates.
	MasterUser = "saas_admin"
	// SharedDatabase is the database the shared instance is created with.
	SharedDatabase = "platform"
	// SharedInstance names the shared instance among the tenants' own
	// (its alarms are db-shared-*, a silo tenant's db-<id>-*).
	SharedInstance = "shared"
)

// MaxLength is the longest name PostgreSQL keeps (NAMEDATALEN - 1): a
// longer database or role name would be cut, and two tenants could share
// one. A stack's own limit (its instance identifiers) may be lower.
const MaxLength = 63

var (
	syntax         = regexp.MustCompile(`^[a-z]([a-z0-9-]*[a-z0-9])?$`)
	databaseSyntax = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// Database is a tenant's database name, and its login role's for pool
// tenants: the id with hyphens as underscores, which PostgreSQL and RDS
// accept unquoted.
func Database(id string) string {
	return strings.ReplaceAll(id, "-", "_")
}

// Check tells whether id may name a tenant. Its error completes a sentence
// that starts with the id: `tenant id "public" is reserved: ...`.
func Check(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("is required: lowercase letters, digits and single hyphens, starting with a letter, such as acme")
	case !syntax.MatchString(id) || strings.Contains(id, "--"):
		return fmt.Errorf("must be lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen, such as acme")
	case len(id) > MaxLength:
		return fmt.Errorf("is %d characters: at most %d", len(id), MaxLength)
	case id == SharedInstance:
		return fmt.Errorf("is reserved: the program names the shared PostgreSQL instance %q among the tenants' own (its alarms would collide)", SharedInstance)
	}
	return CheckDatabase(Database(id))
}

// CheckDatabase tells whether a database or role name derived from a
// tenant id (see Database) is free to use. The provisioner checks the name
// it is handed with it, in case anything but Check made it.
func CheckDatabase(name string) error {
	lower := strings.ToLower(name)
	switch {
	case name == "" || len(name) > MaxLength:
		return fmt.Errorf("makes the database name %q: 1 to %d characters are allowed", name, MaxLength)
	case !databaseSyntax.MatchString(name):
		return fmt.Errorf("makes the database name %q, which no tenant id makes: lowercase letters, digits and underscores, starting with a letter", name)
	case lower == MasterUser:
		return fmt.Errorf("makes the database and role name %q, which is the master user of every PostgreSQL instance of the program", name)
	case lower == SharedDatabase:
		return fmt.Errorf("makes the database name %q, which is the shared instance's own database", name)
	case slices.Contains(reservedRoles, lower):
		return fmt.Errorf("makes the role name %q, which PostgreSQL reserves (public, none, current_user, session_user, current_role)", name)
	case strings.HasPrefix(lower, "pg_"):
		return fmt.Errorf("makes the role name %q: PostgreSQL reserves role names starting with pg_ for its built-in roles", name)
	case strings.HasPrefix(lower, "rds"):
		return fmt.Errorf("makes the name %q: RDS names its own roles and database rds* (rdsadmin, rds_superuser, ...)", name)
	case slices.Contains(builtInDatabases, lower):
		return fmt.Errorf("makes the database name %q, which every PostgreSQL instance already has", name)
	case slices.Contains(Keywords, lower):
		return fmt.Errorf("makes the name %q, a PostgreSQL keyword, which RDS refuses as a database or user name", name)
	}
	return nil
}

// reservedRoles are the role names PostgreSQL refuses to create or reads
// as something else (GRANT ... TO public, ALTER ... OWNER TO current_user).
var reservedRoles = []string{"public", "none", "current_user", "session_user", "current_role", "system_user"}

// builtInDatabases exist in every instance: PostgreSQL's own, and the one
// a vanilla installation's superuser is named after.
var builtInDatabases = []string{"postgres", "template0", "template1"}

// Keywords are PostgreSQL's keywords other than the unreserved ones: what
// `SELECT word FROM pg_get_keywords() WHERE catcode <> 'U'` answers on
// PostgreSQL 15, plus those 16 and 17 added (system_user, the json_*
// constructors, merge_action). RDS refuses a reserved word as a database
// name or master user name. A test compares the list with a live server.
var Keywords = []string{
	"all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "between",
	"bigint", "binary", "bit", "boolean", "both", "case", "cast", "char", "character", "check", "coalesce",
	"collate", "collation", "column", "concurrently", "constraint", "create", "cross", "current_catalog",
	"current_date", "current_role", "current_schema", "current_time", "current_timestamp", "current_user", "dec",
	"decimal", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "exists", "extract",
	"false", "fetch", "float", "for", "foreign", "freeze", "from", "full", "grant", "greatest", "group",
	"grouping", "having", "ilike", "in", "initially", "inner", "inout", "int", "integer", "intersect",
	"interval", "into", "is", "isnull", "join", "json", "json_array", "json_arrayagg", "json_exists", "json_object",
	"json_objectagg", "json_query", "json_scalar", "json_serialize", "json_table", "json_value", "lateral",
	"leading", "least", "left", "like", "limit", "localtime", "localtimestamp", "merge_action", "national",
	"natural", "nchar", "none", "normalize", "not", "notnull", "null", "nullif", "numeric", "offset", "on", "only",
	"or", "order", "out", "outer", "overlaps", "overlay", "placing", "position", "precision", "primary", "real",
	"references", "returning", "right", "row", "select", "session_user", "setof", "similar", "smallint", "some",
	"substring", "symmetric", "system_user", "table", "tablesample", "then", "time", "timestamp", "to", "trailing",
	"treat", "trim", "true", "union", "unique", "user", "using", "values", "varchar", "variadic", "verbose", "when",
	"where", "window", "with", "xmlattributes", "xmlconcat", "xmlelement", "xmlexists", "xmlforest",
	"xmlnamespaces", "xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmltable",
}
