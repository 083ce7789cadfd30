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
// hour, with the operator's own credentials: start every database and wait
// for it, then give every service its awake bounds back. The stack goes
// back to sleep at the next sleep time, as on any other day. Commands are
// independent: a database already up reports so, and the rest still runs.
func wakeUpCommand(region string, databases []data.DatabaseRef, services []compute.WakeTarget) pulumi.StringOutput {
	var ids []any
	for _, t := range services {
		ids = append(ids, t.ResourceId)
	}
	return pulumi.All(ids...).ApplyT(func(resolved []any) string {
		var lines []string
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
		return strings.Join(lines, "\n") + "\n"
	}).(pulumi.StringOutput)
}
