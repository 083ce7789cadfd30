package platform

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/components/compute"
	"github.com/saas-platform/saas-platform/components/data"
)

// OutputWakeUp is the stack output holding the command that wakes a
// sleeping stack before its hours: `pulumi stack output wakeUp | sh`.
const OutputWakeUp = "wakeUp"

// wakeUpCommand does now what the schedule's wake-up actions do at their
// hour, with the operator's own credentials: start the NAT instance (if
// the stack has one) and every database, wait for the databases, then give
// every service its awake bounds back and enable every scheduled task's
// rule (after the databases: the jobs use them). The stack goes
// back to sleep at the next sleep time, as on any other day. Commands are
// independent: a database already up reports so, and the rest still runs.
func wakeUpCommand(region string, natInstance pulumi.StringOutput, databases []data.DatabaseRef, services []compute.WakeTarget, rules []pulumi.StringOutput) pulumi.StringOutput {
	ids := []any{natInstance}
	for _, t := range services {
		ids = append(ids, t.ResourceId)
	}
	for _, r := range rules {
		ids = append(ids, r)
	}
	return pulumi.All(ids...).ApplyT(func(resolved []any) string {
		var lines []string
		// The NAT instance first: the services pull their images through it.
		if nat, _ := resolved[0].(string); nat != "" {
			lines = append(lines, fmt.Sprintf("aws ec2 start-instances --region %s --instance-ids %s --query StartingInstances[0].CurrentState.Name --output text", region, nat))
		}
		resolved = resolved[1:]
		for _, db := range databases {
			lines = append(lines, fmt.Sprintf("aws rds start-db-instance --region %s --db-instance-identifier %s --query DBInstance.DBInstanceStatus --output text", region, db.Identifier))
		}
		for _, db := range databases {
			lines = append(lines, fmt.Sprintf("aws rds wait db-instance-available --region %s --db-instance-identifier %s", region, db.Identifier))
		}
		for i, t := range services {
			lines = append(lines, fmt.Sprintf(
				"aws application-autoscaling register-scalable-target --region %s --service-namespace ecs --scalable-dimension ecs:service:DesiredCount --resource-id %s --min-capacity %d --max-capacity %d",
				region, resolved[i], t.Min, t.Max))
		}
		for _, rule := range resolved[len(services):] {
			lines = append(lines, fmt.Sprintf("aws events enable-rule --region %s --name %s", region, rule))
		}
		return strings.Join(lines, "\n") + "\n"
	}).(pulumi.StringOutput)
}
