package data

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/secretsmanager"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/internal/tenantdb"
)

// serviceSecretsArn matches every service login's secret, and nothing else.
func serviceSecretsArn(region, account, secretPrefix string) string {
	return fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s/services/*", region, account, secretPrefix)
}

type serviceLoginArgs struct {
	service    string
	limit      int    // the login's connection limit
	secretName string // <project>/<stack>/services/<service>/database
	keyArn     pulumi.StringInput
	protect    bool
	host       pulumi.StringInput // the shared instance
	master     pulumi.StringInput // its master secret, which only the provisioner reads
	function   pulumi.StringInput // the provisioner
	deps       []pulumi.Resource
}

// newServiceLogin gives a service its own login in the shared database:
// an empty secret, which the provisioner fills with the login it creates
// (the password never passes through Pulumi state or the stack file).
// Removing the service, or its use of the database, stops the login; its
// schema stays.
func newServiceLogin(ctx *pulumi.Context, name string, args serviceLoginArgs, parent pulumi.Resource) (pulumi.StringOutput, error) {
	login := tenantdb.ServiceLoginName(args.service)
	secret, err := secretsmanager.NewSecret(ctx, name, &secretsmanager.SecretArgs{
		Name: pulumi.String(args.secretName),
		Description: pulumi.String(fmt.Sprintf("Service %s: its login %s in the shared PostgreSQL (url: the same as a postgres:// URL)",
			args.service, login)),
		KmsKeyId:             args.keyArn,
		RecoveryWindowInDays: pulumi.Int(RecoveryWindowDays(args.protect)),
		Tags:                 pulumi.StringMap{"Service": pulumi.String(args.service)},
	}, pulumi.Parent(parent))
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	input := pulumi.All(args.host, args.master, secret.Arn).ApplyT(func(v []any) (string, error) {
		body, err := json.Marshal(tenantdb.Event{
			Kind: tenantdb.KindServiceLogin, Login: login, SecretArn: v[2].(string),
			Database: SharedDatabaseName, Host: v[0].(string), Port: PostgresPort, MasterSecretArn: v[1].(string),
			ConnectionLimit: args.limit,
		})
		return string(body), err
	}).(pulumi.StringOutput)
	if _, err := lambda.NewInvocation(ctx, name, &lambda.InvocationArgs{
		FunctionName:   args.function,
		Input:          input,
		LifecycleScope: pulumi.String("CRUD"),
		TerraformKey:   pulumi.String("tf"),
	}, pulumi.Parent(parent), pulumi.DependsOn(args.deps)); err != nil {
		return pulumi.StringOutput{}, err
	}
	return secret.Arn, nil
}
