package tests

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/components/onboarding"
	runtime "github.com/saas-platform/saas-platform/internal/onboarding"
	"github.com/saas-platform/saas-platform/internal/plan"
)

const (
	tableType      = "aws:dynamodb/table:Table"
	tableItemType  = "aws:dynamodb/tableItem:TableItem"
	functionURL    = "aws:lambda/functionUrl:FunctionUrl"
	permissionType = "aws:lambda/permission:Permission"
	queueType      = "aws:sqs/queue:Queue"
	functionType   = "aws:lambda/function:Function"
	rolePolicyType = "aws:iam/rolePolicy:RolePolicy"
	alarmType      = "aws:cloudwatch/metricAlarm:MetricAlarm"
)

// taskRoleArn is the task role of a service's task definition.
func taskRoleArn(t *testing.T, result *plan.Result, service string) string {
	t.Helper()
	arn := named(t, result, "aws:ecs/taskDefinition:TaskDefinition", service).String("taskRoleArn")
	require.NotEmpty(t, arn)
	return arn
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func policyOf(t *testing.T, r plan.Resource) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.String("policy")), &doc))
	return doc
}

func TestEveryStackRunsTheOnboardingAPIBehindIAMForTheCallersItNamesOnly(t *testing.T) {
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			result := planStack(t, stack)
			prefix := "saas-platform-" + stack
			urls := plan.OfType(result.Resources, functionURL)
			require.Len(t, urls, 1)
			assert.Equal(t, "AWS_IAM", urls[0].String("authorizationType"), "every request is SigV4-signed and checked by IAM")
			assert.Nil(t, urls[0].Input("cors"), "no browser calls it")
			api := named(t, result, functionType, prefix+"-api")
			assert.Equal(t, api.ID, urls[0].String("functionName"))

			// The stack names the api service's task role: the sign-up flow.
			apiRole := taskRoleArn(t, result, "api")
			grants := map[string][]string{}
			for _, p := range plan.OfType(result.Resources, permissionType) {
				if p.String("function") != api.ID {
					continue
				}
				assert.NotEqual(t, "*", p.String("principal"), "nothing public")
				grants[p.String("principal")] = append(grants[p.String("principal")], p.String("action"))
				if p.String("action") == "lambda:InvokeFunctionUrl" {
					assert.Equal(t, "AWS_IAM", p.String("functionUrlAuthType"))
				}
			}
			assert.ElementsMatch(t, []string{apiRole}, keys(grants))
			assert.ElementsMatch(t, []string{"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"}, grants[apiRole],
				"function URLs made since October 2025 need both")
			var callers []string
			require.NoError(t, json.Unmarshal([]byte(api.String("environment.variables."+runtime.EnvCallers)), &callers))
			assert.Equal(t, []string{apiRole}, callers, "the function checks the caller against the same list")
			assert.Nil(t, api.Input("vpcConfig"), "the API reaches only DynamoDB and SQS")
			env := func(fn plan.Resource) func(string) string {
				return func(k string) string { return fn.String("environment.variables." + k) }
			}
			handler := &runtime.API{Registry: &runtime.Registry{}}
			require.NoError(t, handler.FromEnvironment(env(api)), "the API starts with the environment the plan gives it")
			assert.Equal(t, runtime.RegistryTable("saas-platform", stack), handler.Registry.Table)
			worker := named(t, result, functionType, prefix+"-onboarding-provisioner")
			w := &runtime.Worker{Registry: &runtime.Registry{}}
			require.NoError(t, w.FromEnvironment(env(worker)), "so does the worker")
			assert.Equal(t, onboarding.MaxAttempts, w.MaxAttempts)

			// Its role may touch the registry and the queue, nothing else.
			table := named(t, result, tableType, prefix+"-registry")
			policy := named(t, result, rolePolicyType, prefix+"-api")
			for _, s := range policyOf(t, policy)["Statement"].([]any) {
				st := s.(map[string]any)
				for _, a := range st["Action"].([]any) {
					assert.NotContains(t, a, "*", "%s: no wildcard actions", st["Sid"])
				}
				for _, r := range st["Resource"].([]any) {
					assert.NotEqual(t, "*", r, "%s: no wildcard resources", st["Sid"])
				}
			}
			assert.Contains(t, policy.String("policy"), "table/"+table.String("name"))
		})
	}
}

func TestTheRegistryIsOnDemandEncryptedRecoverableAndInProdProtected(t *testing.T) {
	for stack, protected := range map[string]bool{"dev": false, "prod": true} {
		t.Run(stack, func(t *testing.T) {
			result := planStack(t, stack)
			table := named(t, result, tableType, "saas-platform-"+stack+"-registry")
			assert.Equal(t, runtime.RegistryTable("saas-platform", stack), table.String("name"), "the tenants command finds it by name")
			assert.Equal(t, "PAY_PER_REQUEST", table.String("billingMode"))
			assert.Equal(t, "id", table.String("hashKey"))
			assert.True(t, table.Bool("serverSideEncryption.enabled"))
			assert.Equal(t, result.Outputs["keyArn"], table.String("serverSideEncryption.kmsKeyArn"), "with the environment's key")
			assert.True(t, table.Bool("pointInTimeRecovery.enabled"))
			assert.Equal(t, 35.0, table.Number("pointInTimeRecovery.recoveryPeriodInDays"))
			assert.Equal(t, protected, table.Bool("deletionProtectionEnabled"))
			assert.Equal(t, protected, table.Options.Protect)
			assert.Equal(t, table.String("name"), result.Outputs["tenantRegistry"])
		})
	}
}

func TestProvisioningIsQueuedWithRetriesADeadLetterQueueAndAlarms(t *testing.T) {
	result := planStack(t, "prod")
	prefix := "saas-platform-prod"
	queue := named(t, result, queueType, prefix)
	deadLetters := named(t, result, queueType, prefix+"-dead-letters")
	var redrive map[string]any
	require.NoError(t, json.Unmarshal([]byte(queue.String("redrivePolicy")), &redrive))
	assert.Equal(t, "arn:aws:sqs:ap-northeast-1:"+plan.AccountID+":"+deadLetters.String("name"), redrive["deadLetterTargetArn"])
	assert.EqualValues(t, onboarding.MaxAttempts, redrive["maxReceiveCount"])
	for _, q := range []plan.Resource{queue, deadLetters} {
		assert.Equal(t, result.Outputs["keyArn"], q.String("kmsMasterKeyId"), "%s is encrypted with the environment's key", q.Name)
	}

	worker := named(t, result, functionType, prefix+"-onboarding-provisioner")
	assert.GreaterOrEqual(t, queue.Number("visibilityTimeoutSeconds"), worker.Number("timeout"), "SQS requires it")
	assert.Equal(t, runtime.HandlerWorker, worker.String("environment.variables."+runtime.EnvHandler))
	mappings := plan.OfType(result.Resources, "aws:lambda/eventSourceMapping:EventSourceMapping")
	require.Len(t, mappings, 1)
	assert.Equal(t, 1.0, mappings[0].Number("batchSize"))

	// The worker reaches PostgreSQL exactly as the stack's provisioner does.
	groups := groupIDs(result, "prod")
	assert.Equal(t, []string{"provisioner"}, []string{groups[worker.Strings("vpcConfig.securityGroupIds")[0]]})
	provisioner := named(t, result, functionType, prefix+"-tenant-provisioner")
	assert.Equal(t, provisioner.Input("code"), worker.Input("code"), "one binary")
	assert.Equal(t, provisioner.Input("vpcConfig"), worker.Input("vpcConfig"))
	workerPolicy := named(t, result, rolePolicyType, prefix+"-onboarding-provisioner").String("policy")
	for _, sid := range []string{"MasterCredentials", "TenantCredentials", "Registry", "Queue"} {
		assert.Contains(t, workerPolicy, `"Sid":"`+sid+`"`)
	}

	// The alert topic, as every other alarm of the stack notifies it.
	topicArn := named(t, result, alarmType, prefix+"-db-shared-cpu").Strings("alarmActions")
	require.Len(t, topicArn, 1)
	for name, metric := range map[string]string{"failures": "Errors", "dead-letters": "ApproximateNumberOfMessagesVisible"} {
		alarm := named(t, result, alarmType, prefix+"-onboarding-"+name)
		assert.Equal(t, metric, alarm.String("metricName"))
		assert.Equal(t, 0.0, alarm.Number("threshold"))
		assert.Equal(t, topicArn, alarm.Strings("alarmActions"))
	}
	assert.Equal(t, deadLetters.String("name"), named(t, result, alarmType, prefix+"-onboarding-dead-letters").String("dimensions.QueueName"))
	assert.Equal(t, worker.ID, named(t, result, alarmType, prefix+"-onboarding-failures").String("dimensions.FunctionName"))
}

func TestEachDeploymentPublishesTheStacksTenantsPlansAndPoolsForTheAPI(t *testing.T) {
	result := planStack(t, "prod")
	item := named(t, result, tableItemType, "saas-platform-prod-stack-facts")
	var attrs map[string]map[string]string
	require.NoError(t, json.Unmarshal([]byte(item.String("item")), &attrs))
	assert.Equal(t, runtime.StackFactsKey, attrs["id"]["S"])
	var facts runtime.StackFacts
	require.NoError(t, json.Unmarshal([]byte(attrs[runtime.FactsAttribute]["S"]), &facts))

	assert.Equal(t, []string{"acme", "globex", "initech", "umbrella"}, facts.Tenants)
	assert.Equal(t, runtime.Plan{Isolation: "pool", ConnectionLimit: 5}, facts.Plans["free"])
	assert.Equal(t, "silo", facts.Plans["enterprise"].Isolation)
	assert.Equal(t, 63-len("saas-platform-prod-"), facts.MaxIDLength)
	shared := facts.Pools["shared"]
	assert.Equal(t, result.Outputs["databaseAddress"], shared.Host)
	assert.Equal(t, result.Outputs["databaseSecretArn"], shared.MasterSecretArn)
	assert.Equal(t, 25, shared.StackConnections, "globex (free, 5) and initech (basic, 20)")
	assert.Equal(t, 2, shared.StackDatabases)
	assert.Greater(t, shared.Connections, shared.StackConnections, "room is left for run-time tenants")
}

func TestAStackWithoutCallersHasNoAPI(t *testing.T) {
	content := readFile(t, "../Pulumi.dev.yaml")
	start := strings.Index(content, "  saas-platform:onboarding:")
	require.GreaterOrEqual(t, start, 0)
	end := start + strings.Index(content[start:], "\n  saas-platform:tenants:")
	result, err := planFile(t, writeStackFile(t, content[:start]+content[end+1:]), "dev")
	require.NoError(t, err)
	for _, typ := range []string{tableType, functionURL, queueType, tableItemType} {
		assert.Empty(t, plan.OfType(result.Resources, typ), typ)
	}
	assert.NotContains(t, result.Outputs, "onboardingUrl")
}

func TestTheProvisionerIsHandedTheSameEventForARunTimeTenantAsForAStackFileOne(t *testing.T) {
	result := planStack(t, "prod")
	var stack map[string]any
	invocation := named(t, result, "aws:lambda/invocation:Invocation", "saas-platform-prod-tenant-globex")
	require.NoError(t, json.Unmarshal([]byte(invocation.String("input")), &stack))

	item := named(t, result, tableItemType, "saas-platform-prod-stack-facts")
	var attrs map[string]map[string]string
	require.NoError(t, json.Unmarshal([]byte(item.String("item")), &attrs))
	var facts runtime.StackFacts
	require.NoError(t, json.Unmarshal([]byte(attrs[runtime.FactsAttribute]["S"]), &facts))
	worker := named(t, result, functionType, "saas-platform-prod-onboarding-provisioner")
	provisioner := &runtime.TenantDB{}
	require.NoError(t, provisioner.FromEnvironment(func(k string) string { return worker.String("environment.variables." + k) }))

	globex := runtime.Tenant{ID: "globex", Plan: "free", Pool: "shared", ConnectionLimit: facts.Plans["free"].ConnectionLimit, Database: runtime.DatabaseName("globex")}
	body, err := json.Marshal(provisioner.Event(globex, facts.Pools["shared"], "create", "keep"))
	require.NoError(t, err)
	var runTime map[string]any
	require.NoError(t, json.Unmarshal(body, &runTime))
	delete(runTime, "tf") // the invocation's lifecycle block, which Pulumi adds
	// The handler finds the secret by its name in both: the field is empty
	// in the Go event, absent from the deployment's JSON; one to the handler.
	assert.Equal(t, "", runTime["tenantSecretArn"])
	delete(runTime, "tenantSecretArn")
	assert.Equal(t, stack, runTime, "a run-time globex would get exactly what the stack file's globex gets")
}
