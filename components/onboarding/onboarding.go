// Package onboarding builds the run-time onboarding of pool tenants: the
// registry table, the IAM-authenticated API (a Lambda function URL), the
// queue with its dead-letter queue, and the worker that provisions tenants
// with the stack's own provisioner. The handlers are internal/onboarding.
package onboarding

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/components/data"
	"github.com/saas-platform/saas-platform/internal/awspolicy"
	runtime "github.com/saas-platform/saas-platform/internal/onboarding"
)

// Settings of the queue and the functions.
const (
	// MaxAttempts is how often the worker tries a request before it goes
	// to the dead-letter queue and the tenant is marked failed.
	MaxAttempts = 5
	// workerTimeout bounds one attempt; the queue hides a message for
	// twice that, so a slow attempt is never run twice at once, and a
	// failed one is retried after it.
	workerTimeout     = 30
	visibilityTimeout = 2 * workerTimeout
	// migratingWorkerTimeout bounds an attempt that also runs the
	// services' migrations for the tenant, a task each: Lambda's longest.
	// SQS must hide the message at least that long.
	migratingWorkerTimeout     = 900
	migratingVisibilityTimeout = migratingWorkerTimeout + 60
	apiTimeout                 = 10
	// workerConcurrency caps the workers running at once: each holds one
	// master connection to PostgreSQL.
	workerConcurrency = 5
	// deadLetterRetention keeps failed requests 14 days, SQS's maximum.
	deadLetterRetention = 14 * 24 * 3600
	// recoveryDays is the registry's point-in-time recovery window, the
	// longest DynamoDB offers: the table is small, and its cost is by size.
	recoveryDays = 35
)

// Caller is one principal allowed to call the API.
type Caller struct {
	// Name is stable and unique among the callers: it names the
	// permissions granted to the principal.
	Name string
	Arn  pulumi.StringInput
}

// WorkerFunc builds the worker with the provisioner's code, network path
// and permissions (data.Data.TenantFunction).
type WorkerFunc func(ctx *pulumi.Context, name string, args data.TenantFunctionArgs, parent pulumi.Resource) (*lambda.Function, error)

// OnboardingArgs configures Onboarding.
type OnboardingArgs struct {
	Project     string
	Environment string
	Region      string
	// PathPrefix is the environment's path, /<project>/<stack>: log groups
	// and SSM parameters live under it.
	PathPrefix string
	KeyArn     pulumi.StringInput
	// Callers are the principals allowed to call the API.
	Callers []Caller
	// Facts is the stack facts' JSON (internal/onboarding.StackFacts):
	// the stack file's tenants, the plans and the pools.
	Facts pulumi.StringInput
	// Worker builds the worker function; Code is the same package, which
	// the API runs too (cmd/tenantdb).
	Worker           WorkerFunc
	Code             pulumi.Archive
	LogRetentionDays int
	// Protect turns on the table's deletion protection and Pulumi protect.
	Protect bool
	// Migrations says services migrate tenants: the worker runs their
	// migrations for each tenant it makes (the facts list them), with
	// MigrationGrant's permissions and a longer timeout.
	Migrations     bool
	MigrationGrant pulumi.StringInput
}

// Onboarding is the run-time onboarding API and what it needs.
type Onboarding struct {
	pulumi.ResourceState

	// URL is the API's address (a Lambda function URL, AWS_IAM auth).
	URL       pulumi.StringOutput `pulumi:"url"`
	TableName pulumi.StringOutput `pulumi:"tableName"`
	// For alarms: the worker, the API and the dead-letter queue.
	WorkerFunctionName  pulumi.StringOutput `pulumi:"workerFunctionName"`
	ApiFunctionName     pulumi.StringOutput `pulumi:"apiFunctionName"`
	DeadLetterQueueName pulumi.StringOutput `pulumi:"deadLetterQueueName"`
}

// NewOnboarding builds the registry, the queue, the worker and the API.
func NewOnboarding(ctx *pulumi.Context, name string, args *OnboardingArgs, opts ...pulumi.ResourceOption) (*Onboarding, error) {
	if args == nil || args.Worker == nil || args.Code == nil || len(args.Callers) == 0 {
		return nil, fmt.Errorf("onboarding %s: args with a worker, its code and at least one caller are required", name)
	}
	o := &Onboarding{}
	if err := ctx.RegisterComponentResource("saas:onboarding:Onboarding", name, o, opts...); err != nil {
		return nil, err
	}
	caller, err := aws.GetCallerIdentity(ctx, nil, pulumi.Parent(o))
	if err != nil {
		return nil, fmt.Errorf("onboarding %s: reading the account id: %w", name, err)
	}
	account := caller.AccountId
	prefix := args.Project + "-" + args.Environment
	tableName := runtime.RegistryTable(args.Project, args.Environment)
	queueName := prefix + "-onboarding"
	deadLetterName := queueName + "-dead-letters"
	tableArn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", args.Region, account, tableName)
	queueArn := fmt.Sprintf("arn:aws:sqs:%s:%s:%s", args.Region, account, queueName)
	tags := pulumi.StringMap{"Component": pulumi.String("onboarding")}

	table, err := o.registry(ctx, name, args, tableName, tags)
	if err != nil {
		return nil, fmt.Errorf("onboarding %s: registry: %w", name, err)
	}

	deadLetters, err := sqs.NewQueue(ctx, name+"-dead-letters", &sqs.QueueArgs{
		Name:                    pulumi.String(deadLetterName),
		KmsMasterKeyId:          args.KeyArn,
		MessageRetentionSeconds: pulumi.Int(deadLetterRetention),
		Tags:                    tags,
	}, pulumi.Parent(o))
	if err != nil {
		return nil, fmt.Errorf("onboarding %s: dead-letter queue: %w", name, err)
	}
	timeout, visibility := workerTimeout, visibilityTimeout
	if args.Migrations {
		timeout, visibility = migratingWorkerTimeout, migratingVisibilityTimeout
	}
	queue, err := sqs.NewQueue(ctx, name, &sqs.QueueArgs{
		Name:                     pulumi.String(queueName),
		KmsMasterKeyId:           args.KeyArn,
		VisibilityTimeoutSeconds: pulumi.Int(visibility),
		MessageRetentionSeconds:  pulumi.Int(deadLetterRetention),
		RedrivePolicy: deadLetters.Arn.ApplyT(func(arn string) (string, error) {
			b, err := json.Marshal(map[string]any{"deadLetterTargetArn": arn, "maxReceiveCount": MaxAttempts})
			return string(b), err
		}).(pulumi.StringOutput),
		Tags: tags,
	}, pulumi.Parent(o))
	if err != nil {
		return nil, fmt.Errorf("onboarding %s: queue: %w", name, err)
	}

	// It is a tenant provisioner (the reachability report shows it as one:
	// it shares the provisioner's security group).
	var grant pulumi.StringInput
	if args.Migrations {
		grant = args.MigrationGrant
	}
	worker, err := args.Worker(ctx, name+"-onboarding-provisioner", data.TenantFunctionArgs{
		Name:        "onboarding-provisioner",
		Description: "Provisions the pool tenants the onboarding API queues, with the stack's provisioner",
		Timeout:     timeout,
		Policy:      grant,
		KeyServices: []string{"dynamodb", "sqs"},
		Statements: []awspolicy.Statement{
			{Sid: "Registry", Effect: "Allow",
				Action:   []string{"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
				Resource: []string{tableArn}},
			{Sid: "Queue", Effect: "Allow",
				Action:   []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"},
				Resource: []string{queueArn}},
		},
		Environment: pulumi.StringMap{
			runtime.EnvHandler:     pulumi.String(runtime.HandlerWorker),
			runtime.EnvTable:       pulumi.String(tableName),
			runtime.EnvMaxAttempts: pulumi.String(strconv.Itoa(MaxAttempts)),
			runtime.EnvPathPrefix:  pulumi.String(args.PathPrefix),
			runtime.EnvKeyArn:      args.KeyArn,
			runtime.EnvProtect:     pulumi.String(strconv.FormatBool(args.Protect)),
		},
	}, o)
	if err != nil {
		return nil, fmt.Errorf("onboarding %s: worker: %w", name, err)
	}
	if _, err := lambda.NewEventSourceMapping(ctx, name+"-worker", &lambda.EventSourceMappingArgs{
		EventSourceArn: queue.Arn,
		FunctionName:   worker.Arn,
		// One request per invocation: a failure retries only that one.
		BatchSize:     pulumi.Int(1),
		ScalingConfig: &lambda.EventSourceMappingScalingConfigArgs{MaximumConcurrency: pulumi.Int(workerConcurrency)},
	}, pulumi.Parent(o), pulumi.DependsOn([]pulumi.Resource{worker, table})); err != nil {
		return nil, fmt.Errorf("onboarding %s: worker trigger: %w", name, err)
	}

	api, err := o.api(ctx, name, args, account, tableArn, table, queue)
	if err != nil {
		return nil, fmt.Errorf("onboarding %s: api: %w", name, err)
	}
	url, err := lambda.NewFunctionUrl(ctx, name, &lambda.FunctionUrlArgs{
		FunctionName: api.Name,
		// Every request is SigV4-signed and checked by IAM against the
		// function's resource policy below: nothing public, no API keys.
		AuthorizationType: pulumi.String("AWS_IAM"),
	}, pulumi.Parent(o))
	if err != nil {
		return nil, fmt.Errorf("onboarding %s: url: %w", name, err)
	}
	for _, c := range args.Callers {
		// Function URLs made since October 2025 need both actions.
		if _, err := lambda.NewPermission(ctx, name+"-url-"+c.Name, &lambda.PermissionArgs{
			Function:            api.Name,
			Action:              pulumi.String("lambda:InvokeFunctionUrl"),
			Principal:           c.Arn,
			FunctionUrlAuthType: pulumi.String("AWS_IAM"),
		}, pulumi.Parent(o)); err != nil {
			return nil, fmt.Errorf("onboarding %s: caller %s: %w", name, c.Name, err)
		}
		if _, err := lambda.NewPermission(ctx, name+"-invoke-"+c.Name, &lambda.PermissionArgs{
			Function:  api.Name,
			Action:    pulumi.String("lambda:InvokeFunction"),
			Principal: c.Arn,
		}, pulumi.Parent(o)); err != nil {
			return nil, fmt.Errorf("onboarding %s: caller %s: %w", name, c.Name, err)
		}
	}
	// Services find the API where they find every other fact.
	if _, err := ssm.NewParameter(ctx, name+"-url", &ssm.ParameterArgs{
		Name:        pulumi.String(args.PathPrefix + "/onboarding/url"),
		Description: pulumi.String("The onboarding API's URL (SigV4, service lambda)"),
		Type:        pulumi.String("SecureString"),
		KeyId:       args.KeyArn,
		Value:       url.FunctionUrl,
	}, pulumi.Parent(o)); err != nil {
		return nil, fmt.Errorf("onboarding %s: url parameter: %w", name, err)
	}

	o.URL = url.FunctionUrl
	o.TableName = table.Name
	o.WorkerFunctionName = worker.Name
	o.ApiFunctionName = api.Name
	o.DeadLetterQueueName = deadLetters.Name
	if err := ctx.RegisterResourceOutputs(o, pulumi.Map{
		"url": o.URL, "tableName": o.TableName, "workerFunctionName": o.WorkerFunctionName,
		"apiFunctionName": o.ApiFunctionName, "deadLetterQueueName": o.DeadLetterQueueName,
	}); err != nil {
		return nil, err
	}
	return o, nil
}

// registry is the tenant registry: on demand, encrypted with the
// environment's key, recoverable to any second of the last 35 days, and in
// protected environments safe from deletion twice over (AWS's deletion
// protection and Pulumi's protect). The stack facts item is rewritten by
// every deployment.
func (o *Onboarding) registry(ctx *pulumi.Context, name string, args *OnboardingArgs, tableName string, tags pulumi.StringMap) (*dynamodb.Table, error) {
	table, err := dynamodb.NewTable(ctx, name+"-registry", &dynamodb.TableArgs{
		Name:        pulumi.String(tableName),
		BillingMode: pulumi.String("PAY_PER_REQUEST"),
		HashKey:     pulumi.String("id"),
		Attributes:  dynamodb.TableAttributeArray{dynamodb.TableAttributeArgs{Name: pulumi.String("id"), Type: pulumi.String("S")}},
		ServerSideEncryption: &dynamodb.TableServerSideEncryptionArgs{
			Enabled: pulumi.Bool(true), KmsKeyArn: args.KeyArn,
		},
		PointInTimeRecovery: &dynamodb.TablePointInTimeRecoveryArgs{
			Enabled: pulumi.Bool(true), RecoveryPeriodInDays: pulumi.Int(recoveryDays),
		},
		DeletionProtectionEnabled: pulumi.Bool(args.Protect),
		Tags:                      tags,
	}, pulumi.Parent(o), pulumi.Protect(args.Protect))
	if err != nil {
		return nil, err
	}
	item := pulumi.All(args.Facts).ApplyT(func(v []any) (string, error) {
		b, err := json.Marshal(map[string]map[string]string{
			"id":                   {"S": runtime.StackFactsKey},
			runtime.FactsAttribute: {"S": v[0].(string)},
		})
		return string(b), err
	}).(pulumi.StringOutput)
	if _, err := dynamodb.NewTableItem(ctx, name+"-stack-facts", &dynamodb.TableItemArgs{
		TableName: table.Name,
		HashKey:   table.HashKey,
		Item:      item,
	}, pulumi.Parent(o)); err != nil {
		return nil, err
	}
	return table, nil
}

// api is the function behind the URL: outside the VPC (it reaches only
// DynamoDB and SQS), allowed to read and write the registry and to queue.
func (o *Onboarding) api(ctx *pulumi.Context, name string, args *OnboardingArgs, account, tableArn string,
	table *dynamodb.Table, queue *sqs.Queue) (*lambda.Function, error) {
	opts := pulumi.Parent(o)
	logGroup, err := cloudwatch.NewLogGroup(ctx, name+"-api", &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(args.PathPrefix + "/lambda/onboarding-api"),
		RetentionInDays: pulumi.Int(args.LogRetentionDays),
		KmsKeyId:        args.KeyArn,
	}, opts)
	if err != nil {
		return nil, err
	}
	role, err := iam.NewRole(ctx, name+"-api", &iam.RoleArgs{
		Description:      pulumi.String("The onboarding API of " + args.Project + "-" + args.Environment),
		AssumeRolePolicy: pulumi.String(awspolicy.ServiceTrust("lambda.amazonaws.com", account).String()),
	}, opts)
	if err != nil {
		return nil, err
	}
	policy, err := iam.NewRolePolicy(ctx, name+"-api", &iam.RolePolicyArgs{
		Role: role.Name,
		Policy: awspolicy.Output(func(v []any) awspolicy.Document {
			logs, queueArn, key := v[0].(string), v[1].(string), v[2].(string)
			return awspolicy.New(
				awspolicy.Statement{Sid: "OwnLogs", Effect: "Allow",
					Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{logs + ":*"}},
				awspolicy.Statement{Sid: "Registry", Effect: "Allow",
					Action:   []string{"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:PutItem", "dynamodb:UpdateItem"},
					Resource: []string{tableArn}},
				awspolicy.Statement{Sid: "Queue", Effect: "Allow",
					Action: []string{"sqs:SendMessage"}, Resource: []string{queueArn}},
				awspolicy.Statement{Sid: "Encryption", Effect: "Allow",
					Action: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resource: []string{key},
					Condition: awspolicy.Condition{"StringEquals": {"kms:ViaService": {
						fmt.Sprintf("dynamodb.%s.amazonaws.com", args.Region), fmt.Sprintf("sqs.%s.amazonaws.com", args.Region),
					}}}},
			)
		}, logGroup.Arn, queue.Arn, args.KeyArn),
	}, opts)
	if err != nil {
		return nil, err
	}
	principals := make(pulumi.StringArray, 0, len(args.Callers))
	for _, c := range args.Callers {
		principals = append(principals, c.Arn)
	}
	callers := principals.ToStringArrayOutput().ApplyT(func(arns []string) (string, error) {
		sorted := append([]string{}, arns...)
		sort.Strings(sorted)
		b, err := json.Marshal(sorted)
		return string(b), err
	}).(pulumi.StringOutput)
	return lambda.NewFunction(ctx, name+"-api", &lambda.FunctionArgs{
		Description:   pulumi.String("The onboarding API: records pool tenants in the registry and queues their provisioning"),
		Runtime:       pulumi.String("provided.al2023"),
		Handler:       pulumi.String("bootstrap"),
		Architectures: pulumi.StringArray{pulumi.String("arm64")},
		Code:          args.Code,
		Role:          role.Arn,
		MemorySize:    pulumi.Int(256),
		Timeout:       pulumi.Int(apiTimeout),
		KmsKeyArn:     args.KeyArn,
		Environment: &lambda.FunctionEnvironmentArgs{Variables: pulumi.StringMap{
			runtime.EnvHandler:  pulumi.String(runtime.HandlerAPI),
			runtime.EnvTable:    table.Name,
			runtime.EnvQueueURL: queue.Url,
			runtime.EnvCallers:  callers,
			runtime.EnvStack:    pulumi.String(args.Environment),
		}},
		LoggingConfig: &lambda.FunctionLoggingConfigArgs{
			LogFormat: pulumi.String("JSON"),
			LogGroup:  logGroup.Name,
		},
	}, opts, pulumi.DependsOn([]pulumi.Resource{policy}))
}
