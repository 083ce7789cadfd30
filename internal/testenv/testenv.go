// Package testenv owns what the tests that talk to real services share:
// where those services are (PostgreSQL, moto), the rule that a missing one
// fails in CI and skips elsewhere, and cleaning up what a test made there.
// Only tests import it.
package testenv

import (
	"context"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// DSN names the variable holding a PostgreSQL superuser URL.
const DSN = "TENANTDB_TEST_DSN"

// Require returns the variable's value. Without it the test is skipped on a
// developer's machine and fails in CI, where .ci/run must have started the
// service it points at.
func Require(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: .ci/run must start the test services", name)
		}
		t.Skipf("%s is not set (see .ci/run for how to start PostgreSQL and moto)", name)
	}
	return v
}

// DropDatabaseAfter drops the database and the role of that name when the
// test ends, whatever the test left behind.
func DropDatabaseAfter(t testing.TB, name string) {
	t.Cleanup(func() {
		ctx := context.Background()
		super, err := pgx.Connect(ctx, os.Getenv(DSN))
		if err != nil {
			return
		}
		defer super.Close(ctx)
		ident := pgx.Identifier{name}.Sanitize()
		_, _ = super.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
		_, _ = super.Exec(ctx, "DROP ROLE IF EXISTS "+ident)
	})
}

// CreateRegistryTable makes a tenant registry table shaped as the onboarding
// component declares it (keyed by id, on demand) and deletes it when the
// test ends.
func CreateRegistryTable(t testing.TB, db *dynamodb.Client, table string) {
	t.Helper()
	ctx := context.Background()
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	})
}

// Moto is the AWS configuration of a client of the moto server the named
// variable points at: its endpoint, a fixed region and moto's test
// credentials, so that no test reaches AWS or reads the machine's profile.
func Moto(t testing.TB, name string) aws.Config {
	t.Helper()
	return aws.Config{
		Region:       "ap-northeast-1",
		BaseEndpoint: aws.String(Require(t, name)),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	}
}

// MasterRole makes (once) a role shaped like the RDS master user, LOGIN
// with CREATEDB and CREATEROLE but no superuser, and returns the server's
// address as that role.
func MasterRole(t testing.TB, role, password string) *url.URL {
	t.Helper()
	ctx := context.Background()
	dsn := Require(t, DSN)
	super, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer super.Close(ctx)
	var exists bool
	require.NoError(t, super.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", role).Scan(&exists))
	if !exists {
		_, err = super.Exec(ctx, "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+" LOGIN PASSWORD "+quoteLiteral(password)+" CREATEDB CREATEROLE")
		require.NoError(t, err)
	}
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	u.User = url.UserPassword(role, password)
	return u
}

// quoteLiteral quotes a string as a PostgreSQL literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
