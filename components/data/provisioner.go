package data

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
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

// provisionerFlags are the build's flags: part of what a cached package is
// keyed by.
var provisionerFlags = []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w"}

// ErrNoGoToolchain is the one sentence a run without Go fails with.
var ErrNoGoToolchain = errors.New("the tenant provisioner (cmd/tenantdb) is built with the Go toolchain and no go command is on PATH: install Go 1.24 or newer (https://go.dev/dl/) and put it on PATH")

// ProvisionerBuild says where the pool-tenant function is built from, where
// finished packages are kept, and who is told about a build.
type ProvisionerBuild struct {
	// ModuleDir is the repository's root (it holds go.mod); "" finds it
	// from the working directory.
	ModuleDir string
	// CacheDir keeps finished packages, keyed by everything that goes into
	// them; "" is saas-platform/tenant-provisioner in the user's cache
	// directory.
	CacheDir string
	// Progress is told what is built, why, and when a build is reused; nil
	// tells nobody.
	Progress io.Writer
}

var provisioner struct {
	mu       sync.Mutex
	settings ProvisionerBuild
	// built are packages built where no cache directory could be used,
	// by key: built once per process.
	built map[string]string
	// goVersions are the toolchains' versions, by path.
	goVersions map[string]string
}

// ConfigureProvisionerBuild sets how ProvisionerPackage builds; the offline
// plan calls it with its --project and its stderr before the program runs.
func ConfigureProvisionerBuild(b ProvisionerBuild) {
	provisioner.mu.Lock()
	defer provisioner.mu.Unlock()
	provisioner.settings = b
}

// ProvisionerPackage returns the path of the pool-tenant function's Lambda
// deployment zip (linux/arm64, static, reproducible), built as
// ConfigureProvisionerBuild said. A Go Pulumi program always runs where Go is
// installed, so the deployment builds the function from the same commit as
// the infrastructure.
func ProvisionerPackage() (string, error) {
	provisioner.mu.Lock()
	settings := provisioner.settings
	provisioner.mu.Unlock()
	return settings.Package()
}

// Package builds the pool-tenant function, or reuses the package an earlier
// run built from the same source, toolchain and flags.
func (b ProvisionerBuild) Package() (string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", ErrNoGoToolchain
	}
	root := b.ModuleDir
	if root == "" {
		if root, err = moduleRoot(goBin); err != nil {
			return "", err
		}
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("the tenant provisioner is built from the repository, and %s holds no go.mod: point --project at the repository's root", root)
	}
	version, err := goVersion(goBin, root)
	if err != nil {
		return "", err
	}
	key, err := provisionerSourceKey(root, version)
	if err != nil {
		return "", err
	}

	provisioner.mu.Lock()
	defer provisioner.mu.Unlock()
	cacheDir, cacheErr := b.cacheDir()
	if cacheErr == nil {
		cached := filepath.Join(cacheDir, key+".zip")
		if _, err := os.Stat(cached); err == nil {
			b.say("reusing the tenant provisioner built earlier from this source (%s)", cached)
			return cached, nil
		}
	} else if path, ok := provisioner.built[key]; ok {
		return path, nil
	}

	b.say("building the tenant provisioner (%s) for Lambda, linux/arm64: the stack has pool tenants, whose databases "+
		"a Lambda function creates, and its package is part of the plan. The first build compiles its dependencies "+
		"and can take a few minutes; later runs reuse it", provisionerPackage)
	start := time.Now()
	dir, err := os.MkdirTemp("", "saas-platform-tenantdb-")
	if err != nil {
		return "", err
	}
	binary := filepath.Join(dir, "bootstrap")
	args := append(append([]string{"build"}, provisionerFlags...), "-o", binary, provisionerPackage)
	cmd := exec.Command(goBin, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the tenant provisioner (%s): %w\n%s", provisionerPackage, err, out)
	}
	if cacheErr != nil {
		path := filepath.Join(dir, "function.zip")
		if err := zipExecutable(path, binary, "bootstrap"); err != nil {
			return "", err
		}
		if provisioner.built == nil {
			provisioner.built = map[string]string{}
		}
		provisioner.built[key] = path
		b.say("built in %s (not kept for later runs: %v)", time.Since(start).Round(time.Second), cacheErr)
		return path, nil
	}
	// Written aside and renamed, so that a run stopped half-way never
	// leaves a broken package under the key.
	partial, err := os.CreateTemp(cacheDir, key+"-*.partial")
	if err != nil {
		return "", err
	}
	partial.Close()
	if err := zipExecutable(partial.Name(), binary, "bootstrap"); err != nil {
		os.Remove(partial.Name())
		return "", err
	}
	cached := filepath.Join(cacheDir, key+".zip")
	if err := os.Rename(partial.Name(), cached); err != nil {
		os.Remove(partial.Name())
		return "", err
	}
	os.RemoveAll(dir)
	b.say("built in %s; kept in %s for later runs", time.Since(start).Round(time.Second), cached)
	return cached, nil
}

// say tells Progress, if anyone listens.
func (b ProvisionerBuild) say(format string, args ...any) {
	if b.Progress != nil {
		fmt.Fprintf(b.Progress, format+"\n", args...)
	}
}

// cacheDir returns the directory that keeps packages, creating it.
func (b ProvisionerBuild) cacheDir() (string, error) {
	dir := b.CacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(base, "saas-platform", "tenant-provisioner")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// goVersion asks the toolchain its version, once per toolchain.
func goVersion(goBin, root string) (string, error) {
	provisioner.mu.Lock()
	defer provisioner.mu.Unlock()
	if v, ok := provisioner.goVersions[goBin]; ok {
		return v, nil
	}
	cmd := exec.Command(goBin, "env", "GOVERSION")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("asking %s its version: %w", goBin, err)
	}
	if provisioner.goVersions == nil {
		provisioner.goVersions = map[string]string{}
	}
	provisioner.goVersions[goBin] = strings.TrimSpace(string(out))
	return provisioner.goVersions[goBin], nil
}

// provisionerSourceKey digests everything that goes into the package: the
// toolchain's version, the flags and build environment, go.mod and go.sum
// (which pin every dependency), and the Go files of every package of this
// module the function imports, found by following imports from
// cmd/tenantdb.
func provisionerSourceKey(root, version string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00GOFLAGS=%s\x00GOEXPERIMENT=%s\x00", version, strings.Join(provisionerFlags, " "),
		os.Getenv("GOFLAGS"), os.Getenv("GOEXPERIMENT"))
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	module := ""
	for _, line := range strings.Split(string(gomod), "\n") {
		if fields := strings.Fields(line); len(fields) == 2 && fields[0] == "module" {
			module = fields[1]
		}
	}
	if module == "" {
		return "", fmt.Errorf("%s names no module", filepath.Join(root, "go.mod"))
	}
	files := []string{"go.mod", "go.sum"}
	seen := map[string]bool{}
	queue := []string{strings.TrimPrefix(provisionerPackage, "./")}
	for len(queue) > 0 {
		pkg := queue[0]
		queue = queue[1:]
		if seen[pkg] {
			continue
		}
		seen[pkg] = true
		entries, err := os.ReadDir(filepath.Join(root, pkg))
		if err != nil {
			return "", err
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			rel := filepath.Join(pkg, name)
			files = append(files, rel)
			parsed, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, rel), nil, parser.ImportsOnly)
			if err != nil {
				return "", err
			}
			for _, imp := range parsed.Imports {
				path := strings.Trim(imp.Path.Value, `"`)
				if strings.HasPrefix(path, module+"/") {
					queue = append(queue, strings.TrimPrefix(path, module+"/"))
				}
			}
		}
	}
	sort.Strings(files)
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil && !(rel == "go.sum" && errors.Is(err, fs.ErrNotExist)) {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
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
func moduleRoot(goBin string) (string, error) {
	out, err := exec.Command(goBin, "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("locating the Go module: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("the tenant provisioner is built from this repository: run from inside it, or name it with --project")
	}
	return filepath.Dir(gomod), nil
}

// provisionerArgs configures the pool-tenant function.
type provisionerArgs struct {
	region, account  string
	logGroupName     string
	logRetention     int
	keyArn           pulumi.StringInput
	subnetIds        pulumi.StringArrayInput
	securityGroupId  pulumi.StringInput
	masterSecretArns pulumi.StringArrayInput // of every instance holding pool tenants
	tenantSecretsArn string                  // ARN pattern of the tenants' secrets
	// tenantParametersArn is the ARN pattern of the tenants' parameters.
	tenantParametersArn string
	// serviceSecretsArn is the ARN pattern of the services' login
	// secrets; empty for a function that makes no service login.
	serviceSecretsArn string
	code              pulumi.Archive

	// A function that shares the provisioner's code, network path and
	// permissions for another job (the onboarding worker) says what it
	// is, what more it may do, and how its handler is configured.
	description string
	extra       []awspolicy.Statement
	keyServices []string // services through which it may also use the key
	environment pulumi.StringMap
	timeout     int
	policy      pulumi.StringInput // a further policy document; nil: none
}

// newProvisioner creates the function that provisions pool tenants, in the
// private subnets, with a role that may read the instances' master
// secrets, manage the tenants' secrets and parameters (nothing else of the
// environment's), use the key through those two services and write its
// own log group.
//
// It returns the function, its role (siloMastersPolicy adds to it), and
// what an invocation must wait for.
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
			logs, masters, key := v[0].(string), v[1].([]string), v[2].(string)
			return awspolicy.New(
				awspolicy.Statement{Sid: "OwnLogs", Effect: "Allow",
					Action: []string{"logs:CreateLogStream", "logs:PutLogEvents"}, Resource: []string{logs + ":*"}},
				awspolicy.Statement{Sid: "MasterCredentials", Effect: "Allow",
					Action: []string{"secretsmanager:GetSecretValue"}, Resource: masters},
				awspolicy.Statement{Sid: "TenantCredentials", Effect: "Allow",
					Action: []string{
						"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:DescribeSecret",
						"secretsmanager:CreateSecret", "secretsmanager:TagResource", "secretsmanager:RestoreSecret", "secretsmanager:DeleteSecret",
					},
					Resource: []string{args.tenantSecretsArn}},
				awspolicy.Statement{Sid: "TenantFacts", Effect: "Allow",
					Action:   []string{"ssm:GetParameters", "ssm:PutParameter", "ssm:DeleteParameters", "ssm:AddTagsToResource"},
					Resource: []string{args.tenantParametersArn}},
				awspolicy.Statement{Sid: "SecretsEncryption", Effect: "Allow",
					Action: []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, Resource: []string{key},
					Condition: awspolicy.Condition{"StringEquals": {"kms:ViaService": {
						fmt.Sprintf("secretsmanager.%s.amazonaws.com", args.region), fmt.Sprintf("ssm.%s.amazonaws.com", args.region),
					}}}},
			).With(serviceLogins(args.serviceSecretsArn)...).With(args.extra...).With(keyUse(key, args.region, args.keyServices)...)
		}, logGroup.Arn, args.masterSecretArns, args.keyArn),
	}, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	ready := []pulumi.Resource{policy, vpcAccess}
	if args.policy != nil {
		more, err := iam.NewRolePolicy(ctx, name+"-more", &iam.RolePolicyArgs{Role: role.Name, Policy: args.policy}, opts)
		if err != nil {
			return nil, nil, nil, err
		}
		ready = append(ready, more)
	}
	description, timeout := args.description, args.timeout
	if description == "" {
		description = "Creates, updates and retires pool tenants' databases in the shared PostgreSQL"
	}
	if timeout == 0 {
		timeout = 60
	}
	var environment *lambda.FunctionEnvironmentArgs
	if len(args.environment) > 0 {
		environment = &lambda.FunctionEnvironmentArgs{Variables: args.environment}
	}
	function, err := lambda.NewFunction(ctx, name, &lambda.FunctionArgs{
		Description:   pulumi.String(description),
		Environment:   environment,
		Runtime:       pulumi.String("provided.al2023"),
		Handler:       pulumi.String("bootstrap"),
		Architectures: pulumi.StringArray{pulumi.String("arm64")},
		Code:          args.code,
		Role:          role.Arn,
		MemorySize:    pulumi.Int(256),
		Timeout:       pulumi.Int(timeout),
		KmsKeyArn:     args.keyArn,
		VpcConfig: &lambda.FunctionVpcConfigArgs{
			SubnetIds:        args.subnetIds,
			SecurityGroupIds: pulumi.StringArray{args.securityGroupId},
		},
		LoggingConfig: &lambda.FunctionLoggingConfigArgs{
			LogFormat: pulumi.String("JSON"),
			LogGroup:  logGroup.Name,
		},
	}, opts, pulumi.DependsOn(ready))
	if err != nil {
		return nil, nil, nil, err
	}
	return function, role, []pulumi.Resource{function, policy}, nil
}

// serviceLogins lets the provisioner fill the services' login secrets,
// which the stack makes empty; nothing when it makes none.
func serviceLogins(pattern string) []awspolicy.Statement {
	if pattern == "" {
		return nil
	}
	return []awspolicy.Statement{{Sid: "ServiceLoginCredentials", Effect: "Allow",
		Action:   []string{"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:DescribeSecret"},
		Resource: []string{pattern}}}
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

// viaServices are the kms:ViaService values of services in a region.
func viaServices(region string, services ...string) []string {
	var out []string
	for _, s := range services {
		out = append(out, fmt.Sprintf("%s.%s.amazonaws.com", s, region))
	}
	return out
}

// keyUse lets a function use the key through more services (DynamoDB,
// SQS, SSM SecureStrings, which encrypt with kms:Encrypt).
func keyUse(key, region string, services []string) []awspolicy.Statement {
	if len(services) == 0 {
		return nil
	}
	return []awspolicy.Statement{{Sid: "KeyUse", Effect: "Allow",
		Action: []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, Resource: []string{key},
		Condition: awspolicy.Condition{"StringEquals": {"kms:ViaService": viaServices(region, services...)}}}}
}
