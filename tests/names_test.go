package tests

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/saas-platform/saas-platform/components/platform"
	"github.com/saas-platform/saas-platform/internal/plan"
)

// A resource with a fixed physical name cannot be replaced the way Pulumi
// replaces by default, new first: AWS refuses the second one of that name
// (a real deployment's Redis answered ReplicationGroupAlreadyExists). So
// every fixed-name resource of the plan either replaces delete-first
// (platform.DeleteFirst: nothing is lost) or holds data, and is then kept
// from replacement: protected in a protected environment, and refused by
// the transition check (config.CheckTransitions) where a stack-file change
// would replace it.

// nameInputs are the inputs that set a resource's physical name. Under the
// mock, an input is present only when the program set it: AWS and Pulumi
// name everything else.
var nameInputs = []string{
	"name", "alarmName", "dashboardName", "identifier", "replicationGroupId", "clusterIdentifier",
	"functionName", "bucket", "family", "roleName", "topicName", "userId", "userGroupId",
}

// notItsName are inputs of those names that name something else, or that a
// replacement cannot collide on.
var notItsName = map[string]string{
	"aws:lambda/invocation:Invocation":                                                           "functionName is the function it invokes",
	"aws:lambda/eventSourceMapping:EventSourceMapping":                                           "functionName is the function it invokes",
	"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":                       "bucket is the bucket it configures",
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls":                                     "bucket is the bucket it configures",
	"aws:s3/bucketPolicy:BucketPolicy":                                                           "bucket is the bucket it configures",
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":                                     "bucket is the bucket it configures",
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": "bucket is the bucket it configures",
	"aws:s3/bucketVersioningV2:BucketVersioningV2":                                               "bucket is the bucket it configures",
	"aws:ecs/taskDefinition:TaskDefinition":                                                      "family: every change is a new revision of it",
	"aws:rds/parameterGroup:ParameterGroup":                                                      "family is the engine's",
	"aws:elasticache/parameterGroup:ParameterGroup":                                              "family is the engine's",
}

// dataHolders are the fixed-name types whose replacement would lose data,
// with what keeps them from it in a protected environment.
var dataHolders = map[string]func(t *testing.T, r plan.Resource){
	// Its identifier follows the tenant id (a new id is a new tenant); the
	// transition check refuses a tenant's move between pool and silo and a
	// plan that would shrink its storage; no stack-file key reaches an
	// input that forces a replacement.
	"aws:rds/instance:Instance": func(t *testing.T, r plan.Resource) {
		assert.True(t, r.Options.Protect, "%s is protected", r.Name)
		assert.True(t, r.Options.RetainOnDelete, "%s is retained", r.Name)
		assert.Equal(t, true, r.Input("deletionProtection"), "%s has deletion protection", r.Name)
	},
	// The onboarding registry: its name follows the stack's, and its key
	// schema never changes, so nothing in a stack file replaces it.
	"aws:dynamodb/table:Table": func(t *testing.T, r plan.Resource) {
		assert.True(t, r.Options.Protect, "%s is protected", r.Name)
		assert.Equal(t, true, r.Input("deletionProtectionEnabled"), "%s has deletion protection", r.Name)
		assert.Equal(t, true, r.Input("pointInTimeRecovery.enabled"), "%s is recoverable", r.Name)
	},
	// Its name is its only input that forces a replacement, and a new name
	// is a new secret; a deleted one stays recoverable for 30 days.
	"aws:secretsmanager/secret:Secret": func(t *testing.T, r plan.Resource) {
		assert.EqualValues(t, 30, r.Number("recoveryWindowInDays"), "%s stays recoverable", r.Name)
	},
}

func TestEveryFixedNameResourceReplacesDeleteFirstOrIsGuarded(t *testing.T) {
	for _, s := range controlStacks {
		t.Run(s.name, func(t *testing.T) {
			protected := s.sizing == "prod"
			for _, r := range controlPlan(t, s.name, s.file).Resources {
				if !r.Custom {
					continue
				}
				if _, ok := notItsName[r.Type]; ok {
					continue
				}
				for _, key := range nameInputs {
					name, set := r.Inputs[key]
					if !set {
						continue
					}
					what := fmt.Sprintf("%s %s (%s: %v)", r.Type, r.Name, key, name)
					if _, ok := platform.DeleteFirst[r.Type]; ok {
						assert.True(t, r.Options.DeleteBeforeReplace, "%s replaces delete-first", what)
						continue
					}
					check, holdsData := dataHolders[r.Type]
					if !assert.True(t, holdsData,
						"%s has a fixed physical name: list its type in platform.DeleteFirst if a replacement loses nothing, "+
							"or guard it (config.CheckTransitions, protection) and list it in dataHolders", what) {
						continue
					}
					assert.False(t, r.Options.DeleteBeforeReplace, "%s holds data: never replaced delete-first", what)
					if protected {
						check(t, r)
					}
				}
			}
		})
	}
}

// The finding of the real deployment: the cache's replication group has a
// fixed id, and is replaced delete-first.
func TestTheRedisReplicationGroupReplacesDeleteFirst(t *testing.T) {
	for _, s := range controlStacks {
		for _, r := range plan.OfType(controlPlan(t, s.name, s.file).Resources, "aws:elasticache/replicationGroup:ReplicationGroup") {
			assert.NotEmpty(t, r.String("replicationGroupId"), "%s: a fixed id", s.name)
			assert.True(t, r.Options.DeleteBeforeReplace, "%s: delete-first", s.name)
		}
	}
}
