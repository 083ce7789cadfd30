package tenantdb_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/internal/tenantdb"
	"github.com/saas-platform/saas-platform/internal/tenantid"
	"github.com/saas-platform/saas-platform/internal/testenv"
)

// These tests need a real PostgreSQL (TENANTDB_TEST_DSN, a superuser URL)
// and, for the handler, moto's Secrets Manager and SSM
// (TENANTDB_TEST_SECRETS_ENDPOINT); .ci/run starts both.
const masterRole = "tenantdb_test_master"

// master connects as a role shaped like the RDS master user: CREATEDB and
// CREATEROLE, not a superuser.
func master(t *testing.T) (*pgx.Conn, *url.URL) {
	t.Helper()
	u := testenv.MasterRole(t, masterRole, "master-password")
	conn, err := pgx.Connect(context.Background(), u.String())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn, u
}

// unique returns a tenant database name as the program derives it from an
// id (base-<random>), unique to the test run.
func unique(t *testing.T, base string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	name := tenantid.Database(base + "-t17-" + hex.EncodeToString(b))
	testenv.DropDatabaseAfter(t, name)
	return name
}

// connectAs opens a connection as the tenant to its own database (or db).
func connectAs(t *testing.T, base *url.URL, user, password, db string) (*pgx.Conn, error) {
	u := *base
	u.User = url.UserPassword(user, password)
	u.Path = "/" + db
	return pgx.Connect(context.Background(), u.String())
}

func roleState(t *testing.T, conn *pgx.Conn, name string) (canLogin bool, limit int) {
	t.Helper()
	require.NoError(t, conn.QueryRow(context.Background(),
		"SELECT rolcanlogin, rolconnlimit FROM pg_roles WHERE rolname = $1", name).Scan(&canLogin, &limit))
	return canLogin, limit
}

func databaseExists(t *testing.T, conn *pgx.Conn, name string) bool {
	t.Helper()
	var found bool
	require.NoError(t, conn.QueryRow(context.Background(),
		"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&found))
	return found
}

func TestEnsureCreatesALoginRoleAndADatabaseOnlyItCanUse(t *testing.T) {
	ctx := context.Background()
	conn, base := master(t)
	acme, globex := unique(t, "acme-corp"), unique(t, "globex")

	require.NoError(t, tenantdb.Ensure(ctx, conn, tenantdb.Tenant{Name: acme, ConnectionLimit: 5}, "acme-pw"))
	require.NoError(t, tenantdb.Ensure(ctx, conn, tenantdb.Tenant{Name: globex, ConnectionLimit: 5}, "globex-pw"))

	canLogin, limit := roleState(t, conn, acme)
	assert.True(t, canLogin)
	assert.Equal(t, 5, limit)
	var owner string
	require.NoError(t, conn.QueryRow(ctx,
		"SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = $1", acme).Scan(&owner))
	assert.Equal(t, acme, owner)

	tenant, err := connectAs(t, base, acme, "acme-pw", acme)
	require.NoError(t, err, "the tenant logs in to its own database")
	_, err = tenant.Exec(ctx, "CREATE TABLE notes (body text)")
	assert.NoError(t, err, "and owns it")
	tenant.Close(ctx)

	_, err = connectAs(t, base, globex, "globex-pw", acme)
	assert.Error(t, err, "another tenant cannot connect to acme's database")
}

func TestEnsureIsIdempotentAndAppliesAPlanChangeInPlace(t *testing.T) {
	ctx := context.Background()
	conn, base := master(t)
	name := unique(t, "initech")

	require.NoError(t, tenantdb.Ensure(ctx, conn, tenantdb.Tenant{Name: name, ConnectionLimit: 5}, "pw-1"))
	tenant, err := connectAs(t, base, name, "pw-1", name)
	require.NoError(t, err)
	_, err = tenant.Exec(ctx, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)")
	require.NoError(t, err)
	tenant.Close(ctx)

	// The same call again, then a plan change from free to basic.
	require.NoError(t, tenantdb.Ensure(ctx, conn, tenantdb.Tenant{Name: name, ConnectionLimit: 5}, "pw-1"))
	require.NoError(t, tenantdb.Ensure(ctx, conn, tenantdb.Tenant{Name: name, ConnectionLimit: 20}, "pw-1"))

	_, limit := roleState(t, conn, name)
	assert.Equal(t, 20, limit)
	tenant, err = connectAs(t, base, name, "pw-1", name)
	require.NoError(t, err)
	defer tenant.Close(ctx)
	var v int
	require.NoError(t, tenant.QueryRow(ctx, "SELECT v FROM kept").Scan(&v))
	assert.Equal(t, 42, v, "data survives a second run")
}

func TestPasswordsThatNeedQuotingAreHandledSafely(t *testing.T) {
	ctx := context.Background()
	conn, base := master(t)
	name := unique(t, "ohara")
	password := `it's a "pass'word"; DROP ROLE postgres; --`

	require.NoError(t, tenantdb.Ensure(ctx, conn, tenantdb.Tenant{Name: name, ConnectionLimit: 3}, password))
	assert.True(t, databaseExists(t, conn, name), "the database has exactly the given name")
	tenant, err := connectAs(t, base, name, password, name)
	require.NoError(t, err)
	tenant.Close(ctx)
}

// The provisioner refuses, before it connects to anything, a name that no
// valid tenant id makes or that would take over what exists: the stack
// file's validator refuses these ids first, this is defence in depth.
func TestTheProvisionerRefusesNamesThatAreNotATenantsOwn(t *testing.T) {
	for _, name := range []string{
		`o'hara "db"; DROP ROLE postgres; --`, "Acme", "acme-corp", "",
		tenantid.MasterUser, tenantid.SharedDatabase, "public", "none", "current_user", "session_user",
		"pg_monitor", "rdsadmin", "rds_superuser", "postgres", "template0", "template1", "select",
	} {
		t.Run(name, func(t *testing.T) {
			err := tenantdb.Ensure(context.Background(), nil, tenantdb.Tenant{Name: name, ConnectionLimit: 5}, "pw")
			assert.ErrorContains(t, err, "tenant database: ")
			err = tenantdb.Retire(context.Background(), nil, name, true)
			assert.ErrorContains(t, err, "tenant database: ")
		})
	}
}

// The keyword list the tenant id rule refuses is PostgreSQL's own: every
// keyword the server reserves (in any degree) is in it.
func TestTheReservedKeywordsAreTheServersOwn(t *testing.T) {
	conn, _ := master(t)
	rows, err := conn.Query(context.Background(), "SELECT word FROM pg_get_keywords() WHERE catcode <> 'U'")
	require.NoError(t, err)
	words, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.NotEmpty(t, words)
	for _, w := range words {
		assert.Contains(t, tenantid.Keywords, w)
	}
}

// The role names PostgreSQL refuses outright are refused by the rule too.
func TestTheRoleNamesPostgreSQLReservesAreRefusedByTheRule(t *testing.T) {
	conn, _ := master(t)
	for _, name := range []string{"public", "none", "pg_tenant"} {
		_, err := conn.Exec(context.Background(), "CREATE ROLE "+pgx.Identifier{name}.Sanitize())
		require.Error(t, err, "PostgreSQL reserves %s", name)
		assert.Error(t, tenantid.CheckDatabase(name))
	}
}

func TestRetireKeepsTheDataUnlessToldToDrop(t *testing.T) {
	ctx := context.Background()
	conn, base := master(t)
	name := unique(t, "umbrella")
	require.NoError(t, tenantdb.Ensure(ctx, conn, tenantdb.Tenant{Name: name, ConnectionLimit: 5}, "pw"))
	tenant, err := connectAs(t, base, name, "pw", name)
	require.NoError(t, err)
	_, err = tenant.Exec(ctx, "CREATE TABLE orders (id int); INSERT INTO orders VALUES (1)")
	require.NoError(t, err)

	require.NoError(t, tenantdb.Retire(ctx, conn, name, false))
	canLogin, _ := roleState(t, conn, name)
	assert.False(t, canLogin, "a removed tenant can no longer log in")
	assert.True(t, databaseExists(t, conn, name), "its data stays")
	_, err = tenant.Exec(ctx, "SELECT 1")
	assert.Error(t, err, "its open sessions are closed")
	_, err = connectAs(t, base, name, "pw", name)
	assert.Error(t, err)

	// Re-adding the tenant brings it back with its data.
	require.NoError(t, tenantdb.Ensure(ctx, conn, tenantdb.Tenant{Name: name, ConnectionLimit: 5}, "pw"))
	back, err := connectAs(t, base, name, "pw", name)
	require.NoError(t, err)
	var id int
	require.NoError(t, back.QueryRow(ctx, "SELECT id FROM orders").Scan(&id))
	back.Close(ctx)

	require.NoError(t, tenantdb.Retire(ctx, conn, name, true))
	assert.False(t, databaseExists(t, conn, name), "drop removes the database")
	var roles int
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM pg_roles WHERE rolname = $1", name).Scan(&roles))
	assert.Zero(t, roles, "and the role")

	assert.NoError(t, tenantdb.Retire(ctx, conn, name, true), "retiring twice is harmless")
	assert.NoError(t, tenantdb.Retire(ctx, conn, name, false))
}

func secretsClient(t *testing.T) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(testenv.Moto(t, "TENANTDB_TEST_SECRETS_ENDPOINT"))
}

func TestTheHandlerProvisionsThroughSecretsManagerWithoutEverReturningThePassword(t *testing.T) {
	ctx := context.Background()
	_, base := master(t)
	sm := secretsClient(t)
	name := unique(t, "hooli")

	masterSecret, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String("test/master/" + name),
		SecretString: aws.String(`{"username":"` + masterRole + `","password":"master-password"}`),
	})
	require.NoError(t, err)
	// Pulumi creates the tenant secret empty; the function fills it.
	tenantSecret, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("test/tenants/" + name)})
	require.NoError(t, err)

	port := 5432
	if p := base.Port(); p != "" {
		port, err = strconv.Atoi(p)
		require.NoError(t, err)
	}
	h := &tenantdb.Handler{Secrets: sm, SSLMode: "prefer"}
	event := func(action string, limit int, onRemove string) tenantdb.Event {
		ev := tenantdb.Event{
			Database: name, ConnectionLimit: limit, Host: base.Hostname(), Port: port,
			MasterSecretArn: aws.ToString(masterSecret.ARN), TenantSecretArn: aws.ToString(tenantSecret.ARN),
			OnRemove: onRemove,
		}
		ev.TF = &struct {
			Action string `json:"action"`
		}{Action: action}
		return ev
	}
	credentialsNow := func() tenantdb.Credentials {
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: tenantSecret.ARN})
		require.NoError(t, err)
		var c tenantdb.Credentials
		require.NoError(t, json.Unmarshal([]byte(aws.ToString(out.SecretString)), &c))
		return c
	}

	result, err := h.Handle(ctx, event("create", 5, "keep"))
	require.NoError(t, err)
	assert.Equal(t, tenantdb.Result{Database: name, Action: "create"}, result, "the result carries no credentials")
	first := credentialsNow()
	assert.Len(t, first.Password, 32)
	assert.Equal(t, name, first.Username)
	assert.Equal(t, name, first.DBName)

	_, err = h.Handle(ctx, event("update", 20, "keep"))
	require.NoError(t, err)
	assert.Equal(t, first.Password, credentialsNow().Password, "an update keeps the password")

	tenant, err := connectAs(t, base, name, first.Password, name)
	require.NoError(t, err, "the secret's credentials work")
	tenant.Close(ctx)

	_, err = h.Handle(ctx, event("delete", 20, "keep"))
	require.NoError(t, err)
	_, err = connectAs(t, base, name, first.Password, name)
	assert.Error(t, err, "a removed tenant cannot log in")

	_, err = h.Handle(ctx, event("delete", 20, "drop"))
	require.NoError(t, err)
	super, err := pgx.Connect(ctx, os.Getenv("TENANTDB_TEST_DSN"))
	require.NoError(t, err)
	defer super.Close(ctx)
	assert.False(t, databaseExists(t, super, name), "onRemove: drop drops the database")
}

func parametersClient(t *testing.T) *ssm.Client {
	return ssm.NewFromConfig(testenv.Moto(t, "TENANTDB_TEST_SECRETS_ENDPOINT")) // moto serves SSM on the same port
}

func TestTheHandlerOwnsTheTenantsSecretAndFactsAndCleansThemUpOnRemoval(t *testing.T) {
	ctx := context.Background()
	_, base := master(t)
	sm, params := secretsClient(t), parametersClient(t)
	name := unique(t, "pied-piper")
	port := 5432
	if p := base.Port(); p != "" {
		var err error
		port, err = strconv.Atoi(p)
		require.NoError(t, err)
	}
	masterSecret, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String("test/master/" + name),
		SecretString: aws.String(`{"username":"` + masterRole + `","password":"master-password"}`),
	})
	require.NoError(t, err)

	const kmsKey = "arn:aws:kms:ap-northeast-1:123456789012:key/11111111-2222-3333-4444-555555555555"
	secretName := "saas-platform/test20/tenants/" + name + "/database"
	path := "/saas-platform/test20/tenants/" + name
	h := &tenantdb.Handler{Secrets: sm, Parameters: params, SSLMode: "prefer"}
	event := func(action, host string, limit int, onRemove string, protect bool) tenantdb.Event {
		ev := tenantdb.Event{
			Database: name, ConnectionLimit: limit, Host: host, Port: port,
			MasterSecretArn: aws.ToString(masterSecret.ARN), OnRemove: onRemove,
			SecretName: secretName, ParameterPath: path, KmsKeyID: kmsKey, Description: "Tenant " + name + " (free): PostgreSQL",
			Tags: map[string]string{"TenantId": name, "Plan": "free", "Pool": "shared"}, Protect: protect,
		}
		ev.TF = &struct {
			Action string `json:"action"`
		}{Action: action}
		return ev
	}
	facts := func() map[string]string {
		out, err := params.GetParametersByPath(ctx, &ssm.GetParametersByPathInput{Path: aws.String(path), WithDecryption: aws.Bool(true)})
		require.NoError(t, err)
		got := map[string]string{}
		for _, p := range out.Parameters {
			assert.Equal(t, ssmtypes.ParameterTypeSecureString, p.Type, aws.ToString(p.Name))
			got[strings.TrimPrefix(aws.ToString(p.Name), path+"/")] = aws.ToString(p.Value)
		}
		return got
	}
	version := func(fact string) int64 {
		out, err := params.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(path + "/" + fact)})
		require.NoError(t, err)
		return out.Parameter.Version
	}
	password := func() string {
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretName)})
		require.NoError(t, err)
		var c tenantdb.Credentials
		require.NoError(t, json.Unmarshal([]byte(aws.ToString(out.SecretString)), &c))
		return c.Password
	}
	deleted := func() bool {
		out, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretName)})
		var notFound *smtypes.ResourceNotFoundException
		if errors.As(err, &notFound) {
			return true
		}
		require.NoError(t, err)
		return out.DeletedDate != nil
	}

	// Create: the secret, the database and the four facts from one call.
	result, err := h.Handle(ctx, event("create", base.Hostname(), 5, "keep", true))
	require.NoError(t, err)
	assert.Contains(t, result.SecretArn, secretName, "the result names the secret, never its value")
	assert.Equal(t, map[string]string{
		"host": base.Hostname(), "port": strconv.Itoa(port), "database": name, "secret-arn": result.SecretArn,
	}, facts())
	described, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretName)})
	require.NoError(t, err)
	tags := map[string]string{}
	for _, tag := range described.Tags {
		tags[aws.ToString(tag.Key)] = aws.ToString(tag.Value)
	}
	assert.Equal(t, map[string]string{"TenantId": name, "Plan": "free", "Pool": "shared"}, tags)
	assert.Equal(t, kmsKey, aws.ToString(described.KmsKeyId), "encrypted with the environment's key")
	described2, err := params.DescribeParameters(ctx, &ssm.DescribeParametersInput{
		ParameterFilters: []ssmtypes.ParameterStringFilter{{Key: aws.String("Name"), Values: []string{path + "/host"}}},
	})
	require.NoError(t, err)
	require.Len(t, described2.Parameters, 1)
	assert.Equal(t, kmsKey, aws.ToString(described2.Parameters[0].KeyId))
	first := password()
	tenant, err := connectAs(t, base, name, first, name)
	require.NoError(t, err, "the secret's credentials work")
	_, err = tenant.Exec(ctx, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)")
	require.NoError(t, err)
	tenant.Close(ctx)

	// An update that changes nothing writes nothing; a new host rewrites
	// only that fact.
	_, err = h.Handle(ctx, event("update", base.Hostname(), 20, "keep", true))
	require.NoError(t, err)
	assert.Equal(t, int64(1), version("host"))
	other := map[string]string{"localhost": "127.0.0.1", "127.0.0.1": "localhost"}[base.Hostname()]
	require.NotEmpty(t, other, "the test database is local")
	upgraded := event("update", other, 20, "keep", true)
	upgraded.Tags["Plan"] = "basic"
	_, err = h.Handle(ctx, upgraded)
	require.NoError(t, err)
	assert.Equal(t, int64(2), version("host"))
	listed, err := params.ListTagsForResource(ctx, &ssm.ListTagsForResourceInput{
		ResourceType: ssmtypes.ResourceTypeForTaggingParameter, ResourceId: aws.String(path + "/database"),
	})
	require.NoError(t, err)
	assert.Contains(t, listed.TagList, ssmtypes.Tag{Key: aws.String("Plan"), Value: aws.String("basic")}, "a plan change retags the facts")
	assert.Equal(t, int64(1), version("database"))
	assert.Equal(t, first, password(), "an update keeps the password")

	// Removal, data kept, protected environment: the facts go, the secret
	// stays with the data, and re-adding finds both.
	_, err = h.Handle(ctx, event("delete", other, 20, "keep", true))
	require.NoError(t, err)
	assert.Empty(t, facts())
	assert.False(t, deleted())
	_, err = connectAs(t, base, name, first, name)
	assert.Error(t, err, "a removed tenant cannot log in")
	_, err = h.Handle(ctx, event("create", base.Hostname(), 20, "keep", true))
	require.NoError(t, err)
	back, err := connectAs(t, base, name, first, name)
	require.NoError(t, err, "re-added with the same credentials")
	var v int
	require.NoError(t, back.QueryRow(ctx, "SELECT v FROM kept").Scan(&v))
	assert.Equal(t, 7, v, "and its data")
	back.Close(ctx)

	// Removal after onRemove: drop was deployed, protected: the data goes,
	// the secret is scheduled for deletion (recoverable for 30 days).
	_, err = h.Handle(ctx, event("delete", base.Hostname(), 20, "drop", true))
	require.NoError(t, err)
	super, err := pgx.Connect(ctx, os.Getenv("TENANTDB_TEST_DSN"))
	require.NoError(t, err)
	defer super.Close(ctx)
	assert.False(t, databaseExists(t, super, name), "onRemove: drop drops the database")
	assert.True(t, deleted())
	assert.Empty(t, facts())

	// Added back within the window: the secret is restored.
	_, err = h.Handle(ctx, event("create", base.Hostname(), 5, "keep", false))
	require.NoError(t, err)
	assert.False(t, deleted())
	assert.Len(t, facts(), 4)

	// Removal in an unprotected environment deletes the secret at once,
	// even when the data is kept.
	_, err = h.Handle(ctx, event("delete", base.Hostname(), 5, "keep", false))
	require.NoError(t, err)
	assert.True(t, deleted())
	assert.True(t, databaseExists(t, super, name), "the data is kept")

	_, err = h.Handle(ctx, event("delete", base.Hostname(), 5, "keep", false))
	assert.NoError(t, err, "retiring twice is harmless")
}

// uniqueLogin returns a service login name for this test run, and drops
// the role afterwards.
func uniqueLogin(t *testing.T, service string) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	name := tenantdb.ServiceLoginName(service + "-t19-" + hex.EncodeToString(b))
	t.Cleanup(func() {
		super, err := pgx.Connect(context.Background(), os.Getenv("TENANTDB_TEST_DSN"))
		if err != nil {
			return
		}
		defer super.Close(context.Background())
		_, _ = super.Exec(context.Background(), "DROP ROLE IF EXISTS "+pgx.Identifier{name}.Sanitize())
	})
	return name
}

// platformDatabase makes a database owned by the master role, as RDS makes
// the shared instance's platform database. It is dropped before the roles
// the test made (cleanups run last first), which own schemas inside it.
func platformDatabase(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	name := "platform_19_" + hex.EncodeToString(b)
	super, err := pgx.Connect(ctx, testenv.Require(t, "TENANTDB_TEST_DSN"))
	require.NoError(t, err)
	defer super.Close(ctx)
	_, err = super.Exec(ctx, "CREATE DATABASE "+name+" OWNER "+masterRole)
	require.NoError(t, err)
	t.Cleanup(func() {
		super, err := pgx.Connect(ctx, os.Getenv("TENANTDB_TEST_DSN"))
		if err != nil {
			return
		}
		defer super.Close(ctx)
		_, _ = super.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return name
}

// masterOn connects as the master role to database db.
func masterOn(t *testing.T, base *url.URL, db string) *pgx.Conn {
	t.Helper()
	conn, err := connectAs(t, base, masterRole, "master-password", db)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestEachServiceLoginOwnsOneSchemaOfThePlatformDatabaseAndNothingElse(t *testing.T) {
	ctx := context.Background()
	_, base := master(t)
	api, collab := uniqueLogin(t, "api"), uniqueLogin(t, "collaboration")
	tenant := unique(t, "tenant19")
	db := platformDatabase(t)
	conn := masterOn(t, base, db)

	require.NoError(t, tenantdb.EnsureServiceLogin(ctx, conn, tenantdb.ServiceLogin{Role: api, Database: db, ConnectionLimit: 30}, "api-pw"))
	require.NoError(t, tenantdb.EnsureServiceLogin(ctx, conn, tenantdb.ServiceLogin{Role: collab, Database: db, ConnectionLimit: 10}, "collab-pw"))
	require.NoError(t, tenantdb.Ensure(ctx, conn, tenantdb.Tenant{Name: tenant, ConnectionLimit: 5}, "tenant-pw"))

	apiConn, err := connectAs(t, base, api, "api-pw", db)
	require.NoError(t, err, "a service logs in to the platform database")
	defer apiConn.Close(ctx)
	_, err = apiConn.Exec(ctx, "CREATE TABLE sessions (id text)")
	require.NoError(t, err, "and creates tables")
	var schema string
	require.NoError(t, apiConn.QueryRow(ctx, "SELECT table_schema FROM information_schema.tables WHERE table_name = 'sessions'").Scan(&schema))
	assert.Equal(t, api, schema, "in its own schema, its search_path")
	_, err = apiConn.Exec(ctx, "CREATE SCHEMA elsewhere")
	assert.Error(t, err, "it cannot create other schemas")
	_, err = apiConn.Exec(ctx, "CREATE TABLE public.shared (id text)")
	assert.Error(t, err, "nor tables in public")

	collabConn, err := connectAs(t, base, collab, "collab-pw", db)
	require.NoError(t, err)
	defer collabConn.Close(ctx)
	_, err = collabConn.Exec(ctx, "SELECT * FROM "+pgx.Identifier{api, "sessions"}.Sanitize())
	assert.Error(t, err, "another service cannot read its tables")

	_, err = connectAs(t, base, tenant, "tenant-pw", db)
	assert.Error(t, err, "a tenant's login cannot connect to the platform database")

	require.NoError(t, tenantdb.EnsureServiceLogin(ctx, conn, tenantdb.ServiceLogin{Role: api, Database: db, ConnectionLimit: 40}, "api-pw-2"),
		"ensuring again is harmless and applies a new password")
	again, err := connectAs(t, base, api, "api-pw-2", db)
	require.NoError(t, err)
	again.Close(ctx)
	var limit int
	require.NoError(t, conn.QueryRow(ctx, "SELECT rolconnlimit FROM pg_roles WHERE rolname = $1", api).Scan(&limit))
	assert.Equal(t, 40, limit, "the login is capped at the connections the capacity rule counts, and a new cap applies")
	assert.Error(t, tenantdb.EnsureServiceLogin(ctx, conn, tenantdb.ServiceLogin{Role: api, Database: db}, "pw"),
		"a login without a cap is refused: it could take the pool tenants' connections")

	require.NoError(t, tenantdb.RetireServiceLogin(ctx, conn, api))
	_, err = connectAs(t, base, api, "api-pw-2", db)
	assert.Error(t, err, "a retired login cannot log in")
	var tables int
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", api).Scan(&tables))
	assert.Equal(t, 1, tables, "and its data stays")

	assert.Error(t, tenantdb.EnsureServiceLogin(ctx, conn, tenantdb.ServiceLogin{Role: tenant, Database: db, ConnectionLimit: 1}, "pw"),
		"a service login is never a tenant's role")
}

func TestTheHandlerGivesEachServiceItsOwnLoginAndURLInItsOwnSecret(t *testing.T) {
	ctx := context.Background()
	_, base := master(t)
	sm := secretsClient(t)
	api, collab := uniqueLogin(t, "api"), uniqueLogin(t, "collaboration")
	db := platformDatabase(t)

	masterSecret, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String("test/master/" + db),
		SecretString: aws.String(`{"username":"` + masterRole + `","password":"master-password"}`),
	})
	require.NoError(t, err)
	port := 5432
	if p := base.Port(); p != "" {
		port, err = strconv.Atoi(p)
		require.NoError(t, err)
	}
	h := &tenantdb.Handler{Secrets: sm, SSLMode: "prefer"}
	login := func(role, action string) (tenantdb.ServiceCredentials, tenantdb.Result) {
		secret, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("test/services/" + role)})
		if err != nil {
			created, cerr := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("test/services/" + role)})
			require.NoError(t, cerr)
			secret = &secretsmanager.DescribeSecretOutput{ARN: created.ARN}
		}
		ev := tenantdb.Event{Kind: tenantdb.KindServiceLogin, Login: role, SecretArn: aws.ToString(secret.ARN),
			Database: db, Host: base.Hostname(), Port: port, MasterSecretArn: aws.ToString(masterSecret.ARN), ConnectionLimit: 10}
		ev.TF = &struct {
			Action string `json:"action"`
		}{Action: action}
		result, err := h.Handle(ctx, ev)
		require.NoError(t, err)
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: secret.ARN})
		require.NoError(t, err)
		var c tenantdb.ServiceCredentials
		require.NoError(t, json.Unmarshal([]byte(aws.ToString(out.SecretString)), &c))
		return c, result
	}

	apiCreds, result := login(api, "create")
	assert.Equal(t, tenantdb.Result{Database: db, Action: "create"}, result, "the result carries no credentials")
	collabCreds, _ := login(collab, "create")
	assert.NotEqual(t, apiCreds.Password, collabCreds.Password, "two services get different credentials")
	assert.Equal(t, api, apiCreds.Username)
	assert.Equal(t, db, apiCreds.DBName)

	u, err := url.Parse(apiCreds.URL)
	require.NoError(t, err)
	assert.Equal(t, "postgres", u.Scheme)
	assert.Equal(t, "verify-full", u.Query().Get("sslmode"))
	assert.Equal(t, "/"+db, u.Path)
	password, _ := u.User.Password()
	assert.Equal(t, apiCreds.Password, password)
	// The test server has no certificate a client could verify: the URL's
	// credentials are tried with the test's sslmode.
	q := u.Query()
	q.Set("sslmode", "prefer")
	u.RawQuery = q.Encode()
	conn, err := pgx.Connect(ctx, u.String())
	require.NoError(t, err, "the URL in the secret logs in")
	conn.Close(ctx)

	updated, _ := login(api, "update")
	assert.Equal(t, apiCreds, updated, "an update keeps the password and the secret")

	login(api, "delete")
	_, err = connectAs(t, base, api, apiCreds.Password, db)
	assert.Error(t, err, "a retired service login cannot log in")
}
