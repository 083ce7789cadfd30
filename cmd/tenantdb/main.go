// Command tenantdb is the Lambda function that creates, updates and retires
// pool tenants' databases in the shared PostgreSQL and its pools, with
// their secrets and connection-fact parameters. The data component
// builds it for linux/arm64 and invokes it through aws.lambda.Invocation.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/saas-platform/saas-platform/internal/tenantdb"
)

func main() {
	cfg, err := awsconfig.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatalf("loading AWS configuration: %v", err)
	}
	h := &tenantdb.Handler{Secrets: secretsmanager.NewFromConfig(cfg), Parameters: ssm.NewFromConfig(cfg)}
	lambda.Start(h.Handle)
}
