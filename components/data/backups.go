package data

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/backup"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/internal/awspolicy"
)

// backupRule is one rule of the backup plan.
type backupRule struct {
	name     string
	schedule string
	keepDays int
}

// backupRules: daily kept 35 days, weekly kept 90, monthly kept as the stack
// says (a year in dev, five years in prod). They start (UTC) well after the
// databases' own backup window (17:00-18:00) and maintenance window (Sunday
// 18:30-19:30): RDS takes no snapshot during either, and a job that cannot
// start in its window expires.
func backupRules(monthlyKeepDays int) []backupRule {
	return []backupRule{
		{"daily", "cron(0 21 * * ? *)", 35},
		{"weekly", "cron(0 22 ? * SUN *)", 90},
		{"monthly", "cron(0 23 1 * ? *)", monthlyKeepDays},
	}
}

// Restore tests run on the 15th, between the month's busy days and clear of
// every backup and maintenance window, and restore the newest snapshot of the
// week before: the latest daily backup.
const (
	restoreTestSchedule        = "cron(0 1 15 * ? *)"
	restoreTestStartHours      = 8
	restoreTestSelectionDays   = 7
	restoreTestValidationHours = 2
)

type backupArgs struct {
	BackupSettings
	project, environment string
	account              string
	keyArn               pulumi.StringInput
	databases            pulumi.StringArrayInput
	// subnetGroup is where restore tests put the instances they restore:
	// the environment's isolated subnets, never a default VPC.
	subnetGroup pulumi.StringInput
	protect     bool
}

// newBackups puts the databases under an AWS Backup plan, in a vault
// encrypted with the environment's key. Backups outlive the databases:
// deleting an instance leaves its recovery points in the vault. With a DR
// region every recovery point is copied to a vault there; with protection
// on, neither vault lets anyone delete a recovery point before it expires.
func newBackups(ctx *pulumi.Context, name string, args backupArgs, parent pulumi.Resource) error {
	if args.MonthlyRetentionDays < 1 {
		return fmt.Errorf("monthly backups kept %d days: a retention of at least a day is required", args.MonthlyRetentionDays)
	}
	opts := pulumi.Parent(parent)
	vault, err := backup.NewVault(ctx, name, &backup.VaultArgs{
		KmsKeyArn: args.keyArn,
	}, opts, pulumi.Protect(true))
	if err != nil {
		return err
	}
	rules := backupRules(args.MonthlyRetentionDays)
	if err := guardVault(ctx, name, vault, rules, args.protect, opts); err != nil {
		return fmt.Errorf("vault: %w", err)
	}

	var drVault *backup.Vault
	if args.DRRegion != "" {
		if drVault, err = newDRVault(ctx, name+"-dr", args, rules, parent); err != nil {
			return fmt.Errorf("DR vault in %s: %w", args.DRRegion, err)
		}
	}

	var planRules backup.PlanRuleArray
	for _, r := range rules {
		rule := backup.PlanRuleArgs{
			RuleName:         pulumi.String(r.name),
			TargetVaultName:  vault.Name,
			Schedule:         pulumi.String(r.schedule),
			StartWindow:      pulumi.Int(60),
			CompletionWindow: pulumi.Int(360),
			Lifecycle:        &backup.PlanRuleLifecycleArgs{DeleteAfter: pulumi.Int(r.keepDays)},
		}
		if drVault != nil {
			// Every rule is copied, not only the monthly one: a DR restore
			// should lose a day of data, not a month.
			rule.CopyActions = backup.PlanRuleCopyActionArray{backup.PlanRuleCopyActionArgs{
				DestinationVaultArn: drVault.Arn,
				Lifecycle:           &backup.PlanRuleCopyActionLifecycleArgs{DeleteAfter: pulumi.Int(r.keepDays)},
			}}
		}
		planRules = append(planRules, rule)
	}
	plan, err := backup.NewPlan(ctx, name, &backup.PlanArgs{Rules: planRules}, opts)
	if err != nil {
		return err
	}
	role, err := iam.NewRole(ctx, name+"-backup", &iam.RoleArgs{
		Description:      pulumi.String("AWS Backup for " + name),
		AssumeRolePolicy: pulumi.String(awspolicy.ServiceTrust("backup.amazonaws.com", args.account).String()),
	}, opts)
	if err != nil {
		return err
	}
	// AWS's managed policies for AWS Backup: backups and copies, and
	// restores (restore tests included, and the deletion of what they restore).
	var attachments []pulumi.Resource
	for _, policy := range []string{"AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"} {
		attachment, err := iam.NewRolePolicyAttachment(ctx, name+"-"+policy, &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: pulumi.String("arn:aws:iam::aws:policy/service-role/" + policy),
		}, opts)
		if err != nil {
			return err
		}
		attachments = append(attachments, attachment)
	}
	if _, err := backup.NewSelection(ctx, name, &backup.SelectionArgs{
		Name:       pulumi.String(name + "-databases"),
		PlanId:     plan.ID(),
		IamRoleArn: role.Arn,
		Resources:  args.databases,
	}, opts); err != nil {
		return err
	}

	if args.NotificationTopicArn != nil {
		// Failed copies and the outcome of every restore (the monthly
		// restore tests') reach the people who can act on them.
		if _, err := backup.NewVaultNotifications(ctx, name, &backup.VaultNotificationsArgs{
			BackupVaultName:   vault.Name,
			SnsTopicArn:       args.NotificationTopicArn,
			BackupVaultEvents: pulumi.ToStringArray([]string{"COPY_JOB_FAILED", "RESTORE_JOB_COMPLETED"}),
		}, opts); err != nil {
			return fmt.Errorf("vault notifications: %w", err)
		}
	}
	if args.RestoreTesting {
		if err := newRestoreTests(ctx, name, args, vault, role, attachments, opts); err != nil {
			return fmt.Errorf("restore testing: %w", err)
		}
	}
	return nil
}

// newDRVault makes the vault in the DR region, encrypted with a key of its
// own there: a KMS key never leaves its region, and a DR copy must not
// depend on anything in the region it is a copy for.
func newDRVault(ctx *pulumi.Context, name string, args backupArgs, rules []backupRule, parent pulumi.Resource) (*backup.Vault, error) {
	if args.DRProvider == nil {
		return nil, fmt.Errorf("a provider for %s is required", args.DRRegion)
	}
	opts := []pulumi.ResourceOption{pulumi.Parent(parent), pulumi.Provider(args.DRProvider)}
	policy := awspolicy.New(awspolicy.Statement{
		// Without this the key could lock out the account; IAM policies
		// (AWS Backup's role among them) then decide who may use it.
		Sid:       "AccountAdministers",
		Effect:    "Allow",
		Principal: map[string][]string{"AWS": {fmt.Sprintf("arn:aws:iam::%s:root", args.account)}},
		Action:    []string{"kms:*"},
		Resource:  []string{"*"},
	})
	key, err := kms.NewKey(ctx, name, &kms.KeyArgs{
		Description:          pulumi.Sprintf("Encrypts the disaster-recovery copies of the backups of %s-%s", args.project, args.environment),
		EnableKeyRotation:    pulumi.Bool(true),
		RotationPeriodInDays: pulumi.Int(365),
		DeletionWindowInDays: pulumi.Int(30),
		Policy:               pulumi.String(policy.String()),
	}, append(opts, pulumi.Protect(args.protect))...)
	if err != nil {
		return nil, err
	}
	if _, err := kms.NewAlias(ctx, name, &kms.AliasArgs{
		Name:        pulumi.Sprintf("alias/%s/%s/backup-dr", args.project, args.environment),
		TargetKeyId: key.KeyId,
	}, opts...); err != nil {
		return nil, err
	}
	vault, err := backup.NewVault(ctx, name, &backup.VaultArgs{KmsKeyArn: key.Arn}, append(opts, pulumi.Protect(true))...)
	if err != nil {
		return nil, err
	}
	if err := guardVault(ctx, name, vault, rules, args.protect, opts...); err != nil {
		return nil, err
	}
	return vault, nil
}

// guardVault, in a protected environment, denies everyone the deletion of
// a recovery point (AWS Backup still expires them on schedule) and locks the
// vault's retention between the shortest and the longest rule, so that no
// backup or copy lands in it with a shorter life. The lock is in governance
// mode: an administrator allowed to can still remove it, on purpose; a
// compliance-mode lock could never be undone, not even by this program.
func guardVault(ctx *pulumi.Context, name string, vault *backup.Vault, rules []backupRule, protect bool, opts ...pulumi.ResourceOption) error {
	if !protect {
		return nil
	}
	if _, err := backup.NewVaultPolicy(ctx, name, &backup.VaultPolicyArgs{
		BackupVaultName: vault.Name,
		Policy: pulumi.String(awspolicy.New(awspolicy.Statement{
			Sid:       "NobodyDeletesRecoveryPointsEarly",
			Effect:    "Deny",
			Principal: map[string][]string{"AWS": {"*"}},
			Action:    []string{"backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle"},
			Resource:  []string{"*"},
		}).String()),
	}, opts...); err != nil {
		return err
	}
	shortest, longest := rules[0].keepDays, rules[0].keepDays
	for _, r := range rules {
		shortest, longest = min(shortest, r.keepDays), max(longest, r.keepDays)
	}
	_, err := backup.NewVaultLockConfiguration(ctx, name, &backup.VaultLockConfigurationArgs{
		BackupVaultName:  vault.Name,
		MinRetentionDays: pulumi.Int(shortest),
		MaxRetentionDays: pulumi.Int(longest),
	}, opts...)
	return err
}

// newRestoreTests restores the latest recovery point of every database of
// the environment once a month, into the environment's isolated subnets,
// and lets AWS Backup delete the restored instance once it has been
// validated: a restore job that does not end with an available instance is
// a failed test, reported through the vault's RESTORE_JOB_COMPLETED events.
func newRestoreTests(ctx *pulumi.Context, name string, args backupArgs, vault *backup.Vault, role *iam.Role,
	rolePolicies []pulumi.Resource, opts pulumi.ResourceOption) error {
	plan, err := backup.NewRestoreTestingPlan(ctx, name, &backup.RestoreTestingPlanArgs{
		Name:               pulumi.String(restoreTestingName(name)),
		ScheduleExpression: pulumi.String(restoreTestSchedule),
		StartWindowHours:   pulumi.Int(restoreTestStartHours),
		RecoveryPointSelection: &backup.RestoreTestingPlanRecoveryPointSelectionArgs{
			Algorithm:           pulumi.String("LATEST_WITHIN_WINDOW"),
			IncludeVaults:       pulumi.StringArray{vault.Arn},
			RecoveryPointTypes:  pulumi.ToStringArray([]string{"SNAPSHOT"}),
			SelectionWindowDays: pulumi.Int(restoreTestSelectionDays),
		},
	}, opts)
	if err != nil {
		return err
	}
	// Every database carries the environment's Project and Environment tags
	// (the provider's default tags), so the selection follows tenants as they
	// come and go, and never reaches the 30 ARNs a selection may list.
	_, err = backup.NewRestoreTestingSelection(ctx, name, &backup.RestoreTestingSelectionArgs{
		Name:                   pulumi.String("databases"),
		RestoreTestingPlanName: plan.Name,
		ProtectedResourceType:  pulumi.String("RDS"),
		IamRoleArn:             role.Arn,
		ProtectedResourceArns:  pulumi.ToStringArray([]string{"*"}),
		ProtectedResourceConditions: &backup.RestoreTestingSelectionProtectedResourceConditionsArgs{
			StringEquals: backup.RestoreTestingSelectionProtectedResourceConditionsStringEqualArray{
				backup.RestoreTestingSelectionProtectedResourceConditionsStringEqualArgs{
					Key: pulumi.String("aws:ResourceTag/Project"), Value: pulumi.String(args.project),
				},
				backup.RestoreTestingSelectionProtectedResourceConditionsStringEqualArgs{
					Key: pulumi.String("aws:ResourceTag/Environment"), Value: pulumi.String(args.environment),
				},
			},
		},
		// Restored copies hold production data: they go to the isolated
		// subnets, under the VPC's default security group, which admits no
		// service; AWS Backup makes them private, single-AZ and deletable.
		RestoreMetadataOverrides: pulumi.StringMap{"dbsubnetgroupname": args.subnetGroup},
		ValidationWindowHours:    pulumi.Int(restoreTestValidationHours),
	}, opts, pulumi.DependsOn(rolePolicies))
	return err
}

// restoreTestingName fits AWS Backup's restore testing names: letters,
// digits and underscores, at most 50 characters.
func restoreTestingName(name string) string {
	n := strings.ReplaceAll(name, "-", "_")
	if len(n) > 50 {
		n = n[:50]
	}
	return n
}
