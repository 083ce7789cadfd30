package data

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/backup"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/internal/awspolicy"
)

// backupRules: daily kept 35 days, weekly kept 90, monthly kept a year.
// They start (UTC) well after the databases' own backup window (17:00-18:00)
// and maintenance window (Sunday 18:30-19:30): RDS takes no snapshot during
// either, and a job that cannot start in its window expires.
var backupRules = []struct {
	name     string
	schedule string
	keepDays int
}{
	{"daily", "cron(0 21 * * ? *)", 35},
	{"weekly", "cron(0 22 ? * SUN *)", 90},
	{"monthly", "cron(0 23 1 * ? *)", 365},
}

// newBackups puts the databases under an AWS Backup plan, in a vault
// encrypted with the environment's key. Backups outlive the databases:
// deleting an instance leaves its recovery points in the vault.
func newBackups(ctx *pulumi.Context, name, account string, keyArn pulumi.StringInput, databases pulumi.StringArrayInput, parent pulumi.Resource) error {
	opts := pulumi.Parent(parent)
	vault, err := backup.NewVault(ctx, name, &backup.VaultArgs{
		KmsKeyArn: keyArn,
	}, opts, pulumi.Protect(true))
	if err != nil {
		return err
	}
	var rules backup.PlanRuleArray
	for _, r := range backupRules {
		rules = append(rules, backup.PlanRuleArgs{
			RuleName:         pulumi.String(r.name),
			TargetVaultName:  vault.Name,
			Schedule:         pulumi.String(r.schedule),
			StartWindow:      pulumi.Int(60),
			CompletionWindow: pulumi.Int(360),
			Lifecycle:        &backup.PlanRuleLifecycleArgs{DeleteAfter: pulumi.Int(r.keepDays)},
		})
	}
	plan, err := backup.NewPlan(ctx, name, &backup.PlanArgs{Rules: rules}, opts)
	if err != nil {
		return err
	}
	role, err := iam.NewRole(ctx, name+"-backup", &iam.RoleArgs{
		Description:      pulumi.String("AWS Backup for " + name),
		AssumeRolePolicy: pulumi.String(awspolicy.ServiceTrust("backup.amazonaws.com", account).String()),
	}, opts)
	if err != nil {
		return err
	}
	for _, policy := range []string{"AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"} {
		if _, err := iam.NewRolePolicyAttachment(ctx, name+"-"+policy, &iam.RolePolicyAttachmentArgs{
			Role:      role.Name,
			PolicyArn: pulumi.String("arn:aws:iam::aws:policy/service-role/" + policy),
		}, opts); err != nil {
			return err
		}
	}
	_, err = backup.NewSelection(ctx, name, &backup.SelectionArgs{
		Name:       pulumi.String(name + "-databases"),
		PlanId:     plan.ID(),
		IamRoleArn: role.Arn,
		Resources:  databases,
	}, opts)
	return err
}
