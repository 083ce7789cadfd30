package onboarding_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/internal/onboarding"
	"github.com/saas-platform/saas-platform/internal/tenantdb"
	"github.com/saas-platform/saas-platform/internal/testenv"
)

// masterRole is shaped like the RDS master user: CREATEDB and CREATEROLE,
// not a superuser.
const masterRole = "onboarding_test_master"

// postgres returns the server's address, with the master role in place,
// from TENANTDB_TEST_DSN (a superuser URL).
func postgres(t *testing.T) *url.URL {
	t.Helper()
	return testenv.MasterRole(t, masterRole, "master-password")
}

func TestARunTimeTenantIsProvisionedAsAStackFileOneAndActiveInUnderTenSeconds(t *testing.T) {
	ctx := context.Background()
	server := postgres(t)
	f := newFixture(t, roomyPools())
	cfg := testenv.Moto(t, "ONBOARDING_TEST_AWS_ENDPOINT")
	sm, params := secretsmanager.NewFromConfig(cfg), ssm.NewFromConfig(cfg)

	master, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name:         aws.String("onboarding-test/master-" + suffix()),
		SecretString: aws.String(`{"username":"` + masterRole + `","password":"master-password"}`),
	})
	require.NoError(t, err)
	port, err := strconv.Atoi(server.Port())
	if err != nil {
		port = 5432
	}
	pools := map[string]onboarding.Pool{"shared": {
		Host: server.Hostname(), Port: port, MasterSecretArn: aws.ToString(master.ARN), Class: "db.t4g.micro",
		Connections: 80, Databases: 1000,
	}}
	f.publish(onboarding.StackFacts{
		Stack: "dev", Tenants: []string{"acme"}, Pools: pools, MaxIDLength: 40,
		Plans: map[string]onboarding.Plan{"free": {Isolation: "pool", ConnectionLimit: 5}},
	})
	layout := tenantdb.Layout{PathPrefix: "/saas-platform/test" + suffix()}
	w := f.worker(&onboarding.TenantDB{
		Provisioner: &tenantdb.Handler{Secrets: sm, Parameters: params, SSLMode: "prefer"},
		Layout:      layout, KeyArn: "alias/aws/secretsmanager", Protect: true,
	})
	id := "hooli-" + suffix()
	database := onboarding.DatabaseName(id)
	testenv.DropDatabaseAfter(t, database)

	// The request, the queue's delivery and the worker, timed end to end.
	started := time.Now()
	status, body := f.post(id, "free")
	require.Equal(t, http.StatusAccepted, status, body)
	require.NoError(t, f.work(w))
	tenant, _ := f.tenant(id)
	elapsed := time.Since(started)
	require.Equal(t, onboarding.StatusActive, tenant.Status, tenant.LastError)
	t.Logf("POST to active: %v (without the event source mapping's delivery, about a second on AWS)", elapsed)
	assert.Less(t, elapsed, 10*time.Second)

	// What an application reads: the parameters, then the secret.
	fact := func(name string) string {
		out, err := params.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(layout.ParameterPath(id) + "/" + name), WithDecryption: aws.Bool(true)})
		require.NoError(t, err, name)
		return aws.ToString(out.Parameter.Value)
	}
	assert.Equal(t, server.Hostname(), fact("host"))
	assert.Equal(t, strconv.Itoa(port), fact("port"))
	assert.Equal(t, database, fact("database"))
	secret, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(fact("secret-arn"))})
	require.NoError(t, err)
	assert.Equal(t, strings.TrimPrefix(layout.PathPrefix, "/")+"/tenants/"+id+"/database", aws.ToString(secret.Name), "the stack-file tenants' secret layout")
	var c tenantdb.Credentials
	require.NoError(t, json.Unmarshal([]byte(aws.ToString(secret.SecretString)), &c))
	assert.Equal(t, tenantdb.Credentials{Engine: "postgres", Host: server.Hostname(), Port: port, Username: database, Password: c.Password, DBName: database}, c)

	login := func() error {
		u := *server
		u.User, u.Path = url.UserPassword(c.Username, c.Password), "/"+c.DBName
		conn, err := pgx.Connect(ctx, u.String())
		if err == nil {
			conn.Close(ctx)
		}
		return err
	}
	require.NoError(t, login(), "the tenant logs in to its own database")

	// Step one keeps the data and stops the login; step two drops it all.
	status, _ = f.call(session, http.MethodDelete, "/tenants/"+id, "", nil)
	require.Equal(t, http.StatusAccepted, status)
	require.NoError(t, f.work(w))
	assert.Error(t, login(), "a disabled tenant cannot log in")
	_, err = params.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(layout.ParameterPath(id) + "/host")})
	assert.Error(t, err, "its facts go, as a removed stack-file tenant's do")
	_, err = sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(layout.SecretName(id))})
	assert.NoError(t, err, "in a protected environment its credentials stay with its data")

	// Brought back, it logs in again, with the same password.
	status, _ = f.post(id, "free")
	require.Equal(t, http.StatusAccepted, status)
	require.NoError(t, f.work(w))
	require.NoError(t, login(), "re-enabled with its data and credentials")
	status, _ = f.call(session, http.MethodDelete, "/tenants/"+id, "", nil)
	require.Equal(t, http.StatusAccepted, status)
	require.NoError(t, f.work(w))

	status, _ = f.call(session, http.MethodDelete, "/tenants/"+id, "", map[string]string{"dropData": "true"})
	require.Equal(t, http.StatusAccepted, status)
	require.NoError(t, f.work(w))
	super, err := pgx.Connect(ctx, os.Getenv("TENANTDB_TEST_DSN"))
	require.NoError(t, err)
	defer super.Close(ctx)
	var exists bool
	require.NoError(t, super.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", database).Scan(&exists))
	assert.False(t, exists, "the drop removes the database")
	_, err = params.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(layout.ParameterPath(id) + "/host")})
	assert.Error(t, err, "and the parameters")
	gone, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(layout.SecretName(id))})
	require.NoError(t, err)
	assert.NotNil(t, gone.DeletedDate, "and the secret, recoverable for 30 days in a protected environment")
}
