package data

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/rds"
	"github.com/pulumi/pulumi-random/sdk/v4/go/random"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/internal/awspolicy"
	"github.com/saas-platform/saas-platform/internal/tenantid"
)

// PostgresPort is the port of every PostgreSQL instance.
const PostgresPort = 5432

// MasterUsername is the master user of every PostgreSQL instance; its
// password is generated and rotated by RDS in Secrets Manager. The tenant
// id rule keeps tenants' role names off it.
const MasterUsername = tenantid.MasterUser

// Windows, in UTC, chosen not to overlap: backups first, then maintenance.
const (
	backupWindow      = "17:00-18:00"
	maintenanceWindow = "sun:18:30-sun:19:30"
)

// postgresShared is what every PostgreSQL instance of the environment
// shares: subnets, security group, parameters, key, monitoring role.
type postgresShared struct {
	subnetGroup         pulumi.StringInput
	securityGroup       pulumi.StringInput
	parameterGroup      pulumi.StringOutput
	keyArn              pulumi.StringInput
	monitoringRole      pulumi.StringOutput // empty when no instance is monitored
	monitoringReady     []pulumi.Resource   // the role\'s policy, attached before any instance uses it
	logRetention        int
	protect             bool
	performanceInsights bool
	monitoringInterval  int
	logExports          bool
}

// postgresInstance sizes one instance.
type postgresInstance struct {
	identifier          string
	instanceClass       string
	engineVersion       string
	allocatedStorage    int
	maxAllocatedStorage int
	multiAz             bool
	backupRetentionDays int
	dbName              string
	protect             bool // deletion protection, Pulumi protect
	retainOnDelete      bool // survives removal from the program
	// finalSnapshot: deleting the instance leaves a final snapshot and its
	// automated backups, and changes wait for the maintenance window. A
	// tenant marked onRemove: drop loses its protection, not these.
	finalSnapshot bool
	tags          map[string]string
}

// parameterFamily is the parameter group family of an engine version.
func parameterFamily(engineVersion string) string {
	return "postgres" + strings.Split(engineVersion, ".")[0]
}

// newParameterGroup makes the one parameter group every instance shares:
// the quota is 50 per region, and one place enforces TLS for all.
func newParameterGroup(ctx *pulumi.Context, name, engineVersion string, parent pulumi.Resource) (*rds.ParameterGroup, error) {
	return rds.NewParameterGroup(ctx, name, &rds.ParameterGroupArgs{
		Family:      pulumi.String(parameterFamily(engineVersion)),
		Description: pulumi.String("Shared by every PostgreSQL instance of " + name + ": TLS only"),
		Parameters: rds.ParameterGroupParameterArray{
			rds.ParameterGroupParameterArgs{Name: pulumi.String("rds.force_ssl"), Value: pulumi.String("1")},
			rds.ParameterGroupParameterArgs{Name: pulumi.String("password_encryption"), Value: pulumi.String("scram-sha-256")},
			rds.ParameterGroupParameterArgs{Name: pulumi.String("log_min_duration_statement"), Value: pulumi.String("1000")},
		},
	}, pulumi.Parent(parent))
}

// newMonitoringRole lets RDS enhanced monitoring publish OS metrics.
func newMonitoringRole(ctx *pulumi.Context, name, account string, parent pulumi.Resource) (*iam.Role, *iam.RolePolicyAttachment, error) {
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Description:      pulumi.String("RDS enhanced monitoring for " + name),
		AssumeRolePolicy: pulumi.String(awspolicy.ServiceTrust("monitoring.rds.amazonaws.com", account).String()),
	}, pulumi.Parent(parent))
	if err != nil {
		return nil, nil, err
	}
	policy, err := iam.NewRolePolicyAttachment(ctx, name, &iam.RolePolicyAttachmentArgs{
		Role:      role.Name,
		PolicyArn: pulumi.String("arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"),
	}, pulumi.Parent(parent))
	return role, policy, err
}

// newPostgres creates one encrypted, private PostgreSQL instance with the
// shared settings. Its exported logs go to log groups made here, so that
// they are encrypted and expire.
func newPostgres(ctx *pulumi.Context, name string, shared postgresShared, spec postgresInstance, parent pulumi.Resource) (*rds.Instance, error) {
	opts := []pulumi.ResourceOption{pulumi.Parent(parent)}
	tags := pulumi.ToStringMap(spec.tags)

	var logExports pulumi.StringArray
	var logGroups []pulumi.Resource
	if shared.logExports {
		for _, log := range []string{"postgresql", "upgrade"} {
			group, err := cloudwatch.NewLogGroup(ctx, name+"-"+log, &cloudwatch.LogGroupArgs{
				// RDS writes to this fixed name; making it first sets retention and the key.
				Name:            pulumi.Sprintf("/aws/rds/instance/%s/%s", spec.identifier, log),
				RetentionInDays: pulumi.Int(shared.logRetention),
				KmsKeyId:        shared.keyArn,
				Tags:            tags,
			}, opts...)
			if err != nil {
				return nil, err
			}
			logGroups = append(logGroups, group)
			logExports = append(logExports, pulumi.String(log))
		}
	}

	args := &rds.InstanceArgs{
		Identifier:               pulumi.String(spec.identifier),
		Engine:                   pulumi.String("postgres"),
		EngineVersion:            pulumi.String(spec.engineVersion),
		InstanceClass:            pulumi.String(spec.instanceClass),
		DbName:                   pulumi.String(spec.dbName),
		Username:                 pulumi.String(MasterUsername),
		ManageMasterUserPassword: pulumi.Bool(true),
		MasterUserSecretKmsKeyId: shared.keyArn,
		Port:                     pulumi.Int(PostgresPort),

		StorageType:      pulumi.String("gp3"),
		AllocatedStorage: pulumi.Int(spec.allocatedStorage),
		StorageEncrypted: pulumi.Bool(true),
		KmsKeyId:         shared.keyArn,
		MultiAz:          pulumi.Bool(spec.multiAz),

		DbSubnetGroupName:                shared.subnetGroup,
		VpcSecurityGroupIds:              pulumi.StringArray{shared.securityGroup},
		PubliclyAccessible:               pulumi.Bool(false),
		ParameterGroupName:               shared.parameterGroup,
		CaCertIdentifier:                 pulumi.String("rds-ca-rsa2048-g1"),
		IamDatabaseAuthenticationEnabled: pulumi.Bool(true),

		BackupRetentionPeriod:    pulumi.Int(spec.backupRetentionDays),
		BackupWindow:             pulumi.String(backupWindow),
		MaintenanceWindow:        pulumi.String(maintenanceWindow),
		CopyTagsToSnapshot:       pulumi.Bool(true),
		DeleteAutomatedBackups:   pulumi.Bool(!spec.finalSnapshot),
		AutoMinorVersionUpgrade:  pulumi.Bool(true),
		AllowMajorVersionUpgrade: pulumi.Bool(false),
		// Protected environments change in the maintenance window.
		ApplyImmediately: pulumi.Bool(!spec.finalSnapshot),

		DeletionProtection: pulumi.Bool(spec.protect),
		SkipFinalSnapshot:  pulumi.Bool(!spec.finalSnapshot),

		PerformanceInsightsEnabled:   pulumi.Bool(shared.performanceInsights),
		EnabledCloudwatchLogsExports: logExports,
		Tags:                         tags,
	}
	if spec.maxAllocatedStorage > 0 {
		args.MaxAllocatedStorage = pulumi.Int(spec.maxAllocatedStorage)
	}
	if shared.performanceInsights {
		args.PerformanceInsightsKmsKeyId = shared.keyArn
		args.PerformanceInsightsRetentionPeriod = pulumi.Int(7)
	}
	if shared.monitoringInterval > 0 {
		args.MonitoringInterval = pulumi.Int(shared.monitoringInterval)
		args.MonitoringRoleArn = shared.monitoringRole
	}
	if spec.finalSnapshot {
		// A fresh suffix per instance lifetime: a re-created instance never
		// collides with the snapshot its predecessor left behind.
		suffix, err := random.NewRandomId(ctx, name+"-final-snapshot", &random.RandomIdArgs{ByteLength: pulumi.Int(4)}, opts...)
		if err != nil {
			return nil, err
		}
		args.FinalSnapshotIdentifier = pulumi.Sprintf("%s-final-%s", spec.identifier, suffix.Hex)
	}

	instanceOpts := append(opts, pulumi.Protect(spec.protect), pulumi.RetainOnDelete(spec.retainOnDelete),
		pulumi.DependsOn(append(logGroups, shared.monitoringReady...)))
	if spec.maxAllocatedStorage > 0 {
		// Storage autoscaling grows allocatedStorage behind Pulumi's back.
		instanceOpts = append(instanceOpts, pulumi.IgnoreChanges([]string{"allocatedStorage"}))
	}
	instance, err := rds.NewInstance(ctx, name, args, instanceOpts...)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: %w", spec.identifier, err)
	}
	return instance, nil
}

// masterSecretArn is the RDS-managed secret holding the master credentials.
// RDS returns no secret when the instance's creation failed part-way: that
// is reported as an error naming the instance, never indexed blindly.
func masterSecretArn(identifier string, instance *rds.Instance) pulumi.StringOutput {
	return instance.MasterUserSecrets.ApplyT(func(secrets []rds.InstanceMasterUserSecret) (string, error) {
		for _, s := range secrets {
			if s.SecretArn != nil && *s.SecretArn != "" {
				return *s.SecretArn, nil
			}
		}
		return "", fmt.Errorf("RDS instance %s reports no managed master-user secret (masterUserSecrets is empty): "+
			"its creation did not finish; check the instance in the RDS console, then run `pulumi refresh` and `pulumi up` again", identifier)
	}).(pulumi.StringOutput)
}
