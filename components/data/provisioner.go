package data

import (
	"archive/zip"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/internal/awspolicy"
)

// provisionerPackage is the Go package of the pool-tenant function.
const provisionerPackage = "./cmd/tenantdb"

var provisionerBuild struct {
	once sync.Once
	path string
	err  error
}

// ProvisionerPackage builds the pool-tenant function for Lambda (linux/arm64,
// static, reproducible) once per process and returns the path of its
// deployment zip. A Go Pulumi program always runs where Go is installed, so
// the deployment builds the function from the same commit as the
// infrastructure.
func ProvisionerPackage() (string, error) {
	b := &provisionerBuild
	b.once.Do(func() {
		root, err := moduleRoot()
		if err != nil {
			b.err = err
			return
		}
		dir, err := os.MkdirTemp("", "saas-platform-tenantdb-")
		if err != nil {
			b.err = err
			return
		}
		binary := filepath.Join(dir, "bootstrap")
		cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", binary, provisionerPackage)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("building the tenant provisioner (%s): %w\n%s", provisionerPackage, err, out)
			return
		}
		b.path = filepath.Join(dir, "function.zip")
		b.err = zipExecutable(b.path, binary, "bootstrap")
	})
	return b.path, b.err
}

// zipExecutable writes a Lambda deployment package holding one executable.
// Pulumi's own archives drop the execute bit, which the provided runtimes
// need; the fixed timestamp keeps the zip, and so the deployment, stable.
func zipExecutable(zipPath, file, name string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	out, err := os.Create(zipPath)
	if err != nil {
		return err
	}
	w := zip.NewWriter(out)
	header := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)}
	header.SetMode(0o755)
	entry, err := w.CreateHeader(header)
	if err == nil {
		_, err = entry.Write(data)
	}
	if closeErr := w.Close(); err == nil {
		err = closeErr
	}
	if closeErr := out.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return fmt.Errorf("packaging the tenant provisioner: %w", err)
	}
	return nil
}

// moduleRoot finds this module's directory from the working directory.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("locating the Go module: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("the tenant provisioner is built from this repository: run from inside it")
	}
	return filepath.Dir(gomod), nil
}

// provisionerArgs configures the pool-tenant function.
type provisionerArgs struct {
	region, account   string
	logGroupName      string
	logRetention      int
	keyArn            pulumi.StringInput
	subnetIds         pulumi.StringArrayInput
	securityGroupId   pulumi.StringInput
	masterSecretArn   pulumi.StringInput
	tenantSecretsArn  string // ARN pattern of the tenants' secrets
	serviceSecretsArn string // ARN pattern of the services' login secrets
	code              pulumi.Archive
}

// newProvisioner creates the function that provisions tenants' and
// services' logins, in the private subnets, with a role that may read the
// shared instance's master secret (siloMastersPolicy adds the silo
// instances'), read and write the tenants' and the service logins'
// secrets, use the key and write its own log group.
func newProvisioner(ctx *pulumi.Context, name string, args provisionerArgs, parent pulumi.Resource) (*lambda.Function, *iam.Role, []pulumi.Resource, error) {
	opts := pulumi.Parent(parent)
	logGroup, err := cloudwatch.NewLogGroup(ctx, name, &cloudwatch.LogGroupArgs{
		Name:            pulumi.String(args.logGroupName),
		RetentionInDays: pulumi.Int(args.logRetention),
		KmsKeyId:        args.keyArn,
	}, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Description:      pulumi.String("Provisions pool tenants' databases for " + name),
		AssumeRolePolicy: pulumi.String(awspolicy.ServiceTrust("lambda.amazonaws.com", args.account).String()),
	}, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	vpcAccess, err := iam.NewRolePolicyAttachment(ctx, name+"-vpc", &iam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: pulumi.String("arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"),
	}, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	policy, err := iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
		Role: role.Name,
		Policy: awspolicy.Output(func(v []any) awspolicy.Document {
			logs, master, key := v[0].(string), v[1].(string), v[2].(string)
			return awspolicy.New(
				awspolicy.Statement{Sid: "OwnLogs", Effect: "Allow",
					Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{logs + ":*"}},
				awspolicy.Statement{Sid: "MasterCredentials", Effect: "Allow",
					Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{master}},
				awspolicy.Statement{Sid: "TenantCredentials", Effect: "Allow",
					Action:   []string{"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:DescribeSecret"},
					Resource: []string{args.tenantSecretsArn}},
				awspolicy.Statement{Sid: "ServiceLoginCredentials", Effect: "Allow",
					Action:   []string{"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:DescribeSecret"},
					Resource: []string{args.serviceSecretsArn}},
				awspolicy.Statement{Sid: "SecretsEncryption", Effect: "Allow",
					Action: []string{"kms:Decrypt", "kms:GenerateDataKey"}, Resource: []string{key},
					Condition: awspolicy.Condition{"StringEquals": {"kms:ViaService": {fmt.Sprintf("secretsmanager.%s.amazonaws.com", args.region)}}}},
			)
		}, logGroup.Arn, args.masterSecretArn, args.keyArn),
	}, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	function, err := lambda.NewFunction(ctx, name, &lambda.FunctionArgs{
		Description:   pulumi.String("Creates, updates and retires tenants' databases and logins, and services' logins"),
		Runtime:       pulumi.String("provided.al2023"),
		Handler:       pulumi.String("bootstrap"),
		Architectures: pulumi.StringArray{pulumi.String("arm64")},
		Code:          args.code,
		Role:          role.Arn,
		MemorySize:    pulumi.Int(256),
		Timeout:       pulumi.Int(60),
		KmsKeyArn:     args.keyArn,
		VpcConfig: &lambda.FunctionVpcConfigArgs{
			SubnetIds:        args.subnetIds,
			SecurityGroupIds: pulumi.StringArray{args.securityGroupId},
		},
		LoggingConfig: &lambda.FunctionLoggingConfigArgs{
			LogFormat: pulumi.String("JSON"),
			LogGroup:  logGroup.Name,
		},
	}, opts, pulumi.DependsOn([]pulumi.Resource{policy, vpcAccess}))
	if err != nil {
		return nil, nil, nil, err
	}
	return function, role, []pulumi.Resource{function, policy}, nil
}

// siloMastersPolicy lets the provisioner read the silo instances' master
// secrets, which exist only once the instances do.
func siloMastersPolicy(ctx *pulumi.Context, name string, role *iam.Role, masters pulumi.StringArray, parent pulumi.Resource) (*iam.RolePolicy, error) {
	return iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{
		Role: role.Name,
		Policy: awspolicy.Output(func(v []any) awspolicy.Document {
			return awspolicy.New(awspolicy.Statement{Sid: "SiloMasterCredentials", Effect: "Allow",
				Action: []string{"secretsmanager:GetSecretValue"}, Resource: v[0].([]string)})
		}, masters.ToStringArrayOutput()),
	}, pulumi.Parent(parent))
}
