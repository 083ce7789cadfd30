package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/internal/plan"
)

type taskContainer struct {
	Name        string
	Environment []struct{ Name, Value string }
	Secrets     []struct{ Name, ValueFrom string }
	HealthCheck *struct{ Command []string }
	StopTimeout int
}

// tasks maps each task definition to its containers, app first.
func tasks(t *testing.T, r *plan.Result) map[string][]taskContainer {
	t.Helper()
	out := map[string][]taskContainer{}
	for _, td := range plan.OfType(r.Resources, "aws:ecs/taskDefinition:TaskDefinition") {
		var defs []taskContainer
		require.NoError(t, json.Unmarshal([]byte(td.String("containerDefinitions")), &defs))
		require.NotEmpty(t, defs, td.Name)
		out[td.Name] = defs
	}
	return out
}

func valueOf(c taskContainer, name string) (string, bool) {
	for _, e := range c.Environment {
		if e.Name == name {
			return e.Value, true
		}
	}
	for _, s := range c.Secrets {
		if s.Name == name {
			return s.ValueFrom, true
		}
	}
	return "", false
}

func TestTheStackFilesRunTheSourceArchitecturesWorkloads(t *testing.T) {
	for _, stack := range stacks {
		t.Run(stack, func(t *testing.T) {
			result := planStack(t, stack)
			all := tasks(t, result)

			collaboration := all["collaboration"][0]
			tg, ok := plan.Named(result.Resources, "aws:lb/targetGroup:TargetGroup", "collaboration")
			require.True(t, ok)
			assert.Equal(t, "/health", tg.String("healthCheck.path"), "the target group checks /health")
			require.NotNil(t, collaboration.HealthCheck)
			assert.Contains(t, collaboration.HealthCheck.Command[1], "http://localhost:3001/health", "so does the container")
			assert.Equal(t, 120, collaboration.StopTimeout)

			// One generated JWT_SECRET: collaboration verifies what api signs.
			apiJWT, ok := valueOf(all["api"][0], "JWT_SECRET")
			require.True(t, ok)
			collaborationJWT, _ := valueOf(collaboration, "JWT_SECRET")
			assert.Equal(t, apiJWT, collaborationJWT)
			assert.Contains(t, apiJWT, ":secret:saas-platform/"+stack+"/generated/JWT_SECRET-")

			cache := result.Outputs["cacheEndpoint"]
			for _, name := range []string{"api", "collaboration"} {
				endpoint, _ := valueOf(all[name][0], "REDIS_CLUSTER_ENDPOINT")
				assert.Equal(t, fmt.Sprintf("%s:6379", cache), endpoint, "%s: ${cache.endpoint} is the configuration endpoint's host:port", name)
				// Cluster mode in prod's configuration endpoint; dev's serverless
				// cache speaks the cluster protocol at its one endpoint.
				want := map[string]string{"dev": ".serverless.", "prod": "clustercfg."}[stack]
				assert.Contains(t, endpoint, want, "%s: the cluster protocol in %s too", name, stack)
			}

			notification := grantsOf(t, result, "notification-task")
			assert.Contains(t, notification, "ses:SendEmail")
			analytics := grantsOf(t, result, "analytics-task")
			assert.Contains(t, analytics, "s3:PutObject")
			assert.Contains(t, analytics, "s3:GetObject")

			schedule := plan.OfType(result.Resources, "aws:cloudwatch/eventTarget:EventTarget")
			require.Len(t, schedule, 1)
			assert.Equal(t, 1.0, schedule[0].Number("ecsTarget.taskCount"), "update runs one task")
		})
	}

	prod := planStack(t, "prod")
	jwt, ok := plan.Named(prod.Resources, "aws:secretsmanager/secret:Secret", "generated-JWT_SECRET")
	require.True(t, ok)
	assert.Equal(t, 30.0, jwt.Number("recoveryWindowInDays"), "prod keeps a deleted secret 30 days, like every other")
	td, ok := plan.Named(prod.Resources, "aws:ecs/taskDefinition:TaskDefinition", "collaboration")
	require.True(t, ok)
	assert.Equal(t, "1024", td.String("cpu"))
	assert.Equal(t, "2048", td.String("memory"))
	svc, ok := plan.Named(prod.Resources, "aws:ecs/service:Service", "collaboration")
	require.True(t, ok)
	assert.Equal(t, 3.0, svc.Number("desiredCount"))
	assert.Equal(t, "FARGATE", svc.String("capacityProviderStrategies.0.capacityProvider"))
	assert.Equal(t, 1, svc.Count("capacityProviderStrategies"), "on-demand only")
}

// grantsOf joins a role policy's actions, for a quick look.
func grantsOf(t *testing.T, r *plan.Result, name string) string {
	t.Helper()
	p, ok := plan.Named(r.Resources, "aws:iam/rolePolicy:RolePolicy", name)
	require.True(t, ok, name)
	return p.String("policy")
}

// The execution role injects a task's secrets: it may read exactly the ones
// its containers name, so no service can read another's.
func TestNoServiceCanReadAnotherServicesSecrets(t *testing.T) {
	for _, s := range controlStacks {
		t.Run(s.name, func(t *testing.T) {
			result := controlPlan(t, s.name, s.file)
			for service, containers := range tasks(t, result) {
				named := map[string]bool{}
				for _, c := range containers {
					for _, sec := range c.Secrets {
						arn := sec.ValueFrom
						if strings.HasPrefix(arn, "arn:aws:secretsmanager:") {
							// <arn>:<json key>:<version stage>:<version id>
							parts := strings.SplitN(arn, ":", 8)
							arn = strings.Join(parts[:min(len(parts), 7)], ":")
						}
						named[arn] = true
					}
				}
				p, ok := plan.Named(result.Resources, "aws:iam/rolePolicy:RolePolicy", service+"-execution")
				require.True(t, ok, service)
				statements := statementsOf(t, p)
				readable := map[string]bool{}
				for _, st := range statements {
					if st.Sid == "InjectedSecrets" || st.Sid == "InjectedParameters" {
						for _, r := range st.Resource {
							readable[r] = true
						}
					}
				}
				assert.Equal(t, named, readable, "%s's execution role reads exactly what its task injects", service)
			}
		})
	}
}
