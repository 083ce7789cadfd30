package platform

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// DeleteFirst are the resource types the program gives a fixed physical
// name (a replication group id, an alarm's name, a log group's path, ...)
// that may be replaced without losing data. Pulumi replaces by creating
// the new resource before deleting the old one, which a fixed name cannot
// survive: AWS answers that the name exists (ReplicationGroupAlreadyExists,
// DuplicateLoadBalancerName), or, for APIs that create by overwriting
// (PutMetricAlarm, PutDashboard, PutParameter), the old one's deletion then
// deletes the new one. These are replaced delete-first instead. Where a
// replacement would be refused anyway (deletion protection on prod's load
// balancer, Pulumi protect on prod's cache, a repository that is not
// empty), it still is: delete-first changes the order, not the safeguards.
//
// Resources whose fixed name holds data that a replacement would lose (the
// RDS instances, the secrets, the onboarding registry) are not here: the transition check
// (config.CheckTransitions) refuses the stack-file changes that would
// replace them. tests/names_test.go holds every fixed-name type of the plan
// to one or the other.
var DeleteFirst = map[string]string{
	"aws:appautoscaling/scheduledAction:ScheduledAction":           "a sleep or wake-up time; PutScheduledAction overwrites",
	"aws:backup/restoreTestingPlan:RestoreTestingPlan":             "schedule only",
	"aws:backup/restoreTestingSelection:RestoreTestingSelection":   "what the restore tests cover; the name is unique within the plan",
	"aws:backup/selection:Selection":                               "what the backup plan covers; the recovery points stay in the vault",
	"aws:cloudwatch/compositeAlarm:CompositeAlarm":                 "configuration; PutCompositeAlarm overwrites",
	"aws:cloudwatch/dashboard:Dashboard":                           "configuration; PutDashboard overwrites",
	"aws:cloudwatch/logGroup:LogGroup":                             "replaced only when its name changes, which a replacement loses in either order",
	"aws:cloudwatch/metricAlarm:MetricAlarm":                       "configuration; PutMetricAlarm overwrites",
	"aws:ecr/repository:Repository":                                "images are pushed again by delivery; prod's repositories refuse deletion while they hold any",
	"aws:ecs/service:Service":                                      "tasks are stateless",
	"aws:elasticache/replicationGroup:ReplicationGroup":            "a cache: it may start empty; prod's is protected, so its replacement stays refused",
	"aws:elasticache/serverlessCache:ServerlessCache":              "a cache: it may start empty; a protected stack's is protected, so its replacement stays refused",
	"aws:elasticache/user:User":                                    "the cache's default user: its password is the AUTH token, kept in its own secret",
	"aws:elasticache/userGroup:UserGroup":                          "which users the cache takes; no data",
	"aws:kms/alias:Alias":                                          "a name pointing at a key; the key stays",
	"aws:lb/loadBalancer:LoadBalancer":                             "no data; prod's deletion protection still refuses the replacement",
	"aws:route53/record:Record":                                    "a record; the zone stays",
	"aws:scheduler/schedule:Schedule":                              "a sleep or wake-up time of a database, the NAT instance or a scheduled task's rule",
	"aws:scheduler/scheduleGroup:ScheduleGroup":                    "holds the schedules, which are replaced with it",
	"aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": "names only",
	"aws:servicediscovery/service:Service":                         "names only",
	"aws:ssm/parameter:Parameter":                                  "the program writes every value; PutParameter overwrites",
	"aws:lambda/functionUrl:FunctionUrl":                           "one URL per function; a new one's address is published again (onboardingUrl, SSM)",
	"aws:sqs/queue:Queue":                                          "onboarding's queues: the registry keeps every request, and the same request again queues it",
}

// deleteFirst makes every resource of a DeleteFirst type replace
// delete-first; it is applied to the platform and so to all it contains.
func deleteFirst(args *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
	if _, ok := DeleteFirst[args.Type]; !ok {
		return nil
	}
	return &pulumi.ResourceTransformationResult{
		Props: args.Props,
		Opts:  append(args.Opts, pulumi.DeleteBeforeReplace(true)),
	}
}
