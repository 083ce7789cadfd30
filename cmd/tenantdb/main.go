// Command tenantdb is the Lambda binary that provisions pool tenants. By
// its function's TENANTDB_HANDLER it runs as:
//   - (unset) the provisioner the deployment invokes through
//     aws.lambda.Invocation for each stack-file pool tenant;
//   - onboarding-api: the run-time onboarding API behind a function URL;
//   - onboarding-worker: the queue's consumer that provisions the tenants
//     the API records, with the same provisioner code;
//   - migrations: the runner the deployment invokes once per service with
//     a migrate command, which runs it as a task of the service per tenant.
//
// The data component builds it once for linux/arm64; all three functions
// run the same code, so a run-time tenant is made as a stack-file one.
package main

import (
	"context"
	"log"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/saas-platform/saas-platform/internal/migrations"
	"github.com/saas-platform/saas-platform/internal/onboarding"
	"github.com/saas-platform/saas-platform/internal/tenantdb"
)

func main() {
	cfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("loading AWS configuration: %v", err)
	}
	provisioner := &tenantdb.Handler{Secrets: secretsmanager.NewFromConfig(cfg), Parameters: ssm.NewFromConfig(cfg)}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	registry := &onboarding.Registry{DB: dynamodb.NewFromConfig(cfg)}

	switch handler := os.Getenv(onboarding.EnvHandler); handler {
	case "":
		lambda.Start(provisioner.Handle)
	case onboarding.HandlerAPI:
		api := &onboarding.API{Registry: registry, Queue: sqs.NewFromConfig(cfg), Rules: onboarding.StackRules(), Log: logger}
		if err := api.FromEnvironment(os.Getenv); err != nil {
			log.Fatal(err)
		}
		lambda.Start(api.Handle)
	case onboarding.HandlerWorker:
		tenants := &onboarding.TenantDB{Provisioner: provisioner, Migrations: &migrations.Runner{ECS: ecs.NewFromConfig(cfg), Log: logger}}
		if err := tenants.FromEnvironment(os.Getenv); err != nil {
			log.Fatal(err)
		}
		w := &onboarding.Worker{Registry: registry, Log: logger, Provisioner: tenants}
		if err := w.FromEnvironment(os.Getenv); err != nil {
			log.Fatal(err)
		}
		lambda.Start(w.Handle)
	case migrations.Handler:
		runner := &migrations.Runner{ECS: ecs.NewFromConfig(cfg), Log: logger}
		if table := os.Getenv(onboarding.EnvTable); table != "" {
			// The onboarding API's tenants are migrated with the stack
			// file's whenever a service's task changes.
			registry.Table = table
			runner.RunTime = onboarding.MigrationTenants{
				Registry: registry,
				Layout:   tenantdb.Layout{PathPrefix: os.Getenv(onboarding.EnvPathPrefix)},
			}
		}
		lambda.Start(runner.Handle)
	default:
		log.Fatalf("%s=%q: the handlers are %s, %s and %s (or unset for the provisioner)",
			onboarding.EnvHandler, handler, onboarding.HandlerAPI, onboarding.HandlerWorker, migrations.Handler)
	}
}
