package compute

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ecs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/saas-platform/saas-platform/config"
)

// Sidecars, with pinned images (tags published on public.ecr.aws).
const (
	// CollectorContainer runs the AWS Distro for OpenTelemetry collector
	// with the X-Ray configuration its image ships: OTLP in, X-Ray out.
	CollectorContainer = "otel-collector"
	collectorImage     = "public.ecr.aws/aws-observability/aws-otel-collector:v0.43.3"
	collectorConfig    = "--config=/etc/ecs/ecs-xray.yaml"
	otlpEndpoint       = "http://localhost:4317"

	// AgentContainer runs the CloudWatch agent in statsd mode; its
	// configuration comes from an SSM parameter.
	AgentContainer = "cloudwatch-agent"
	agentImage     = "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:1.300059.0b1207"
	statsdPort     = 8125
)

// scratchVolume is the task's ephemeral storage, mounted at /tmp.
const scratchVolume = "scratch"

// containerSecret is injected into a container by ECS from Secrets Manager
// or SSM, never as a plain environment value.
type containerSecret struct {
	name      string
	valueFrom pulumi.StringInput
	// readable is the ARN the execution role must be allowed to read; an
	// SSM parameter's is granted ssm:GetParameters, a secret's
	// secretsmanager:GetSecretValue.
	readable  pulumi.StringInput
	parameter bool
}

// platformEnvironment is what the platform tells every container, keyed as
// config.PlatformEnvironment lists it.
func (c *Compute) platformEnvironment(s config.Service) pulumi.StringMap {
	args := c.args
	env := pulumi.StringMap{
		"APP_ENV":                 pulumi.String(args.Environment),
		"SERVICE_NAME":            pulumi.String(s.Name),
		"AWS_REGION":              pulumi.String(args.Region),
		"PARAMETER_PREFIX":        pulumi.String(args.PathPrefix),
		"TENANT_PARAMETER_PREFIX": pulumi.String(args.PathPrefix + "/tenants"),
	}
	if s.Port > 0 {
		env["PORT"] = pulumi.String(fmt.Sprint(s.Port))
	}
	if s.Tracing {
		env["OTEL_EXPORTER_OTLP_ENDPOINT"] = pulumi.String(otlpEndpoint)
		env["OTEL_SERVICE_NAME"] = pulumi.String(s.Name)
	}
	if s.Metrics == config.MetricsStatsd {
		env["STATSD_HOST"] = pulumi.String("localhost")
		env["STATSD_PORT"] = pulumi.String(fmt.Sprint(statsdPort))
	}
	return env
}

// environment is the service's whole plain environment: the platform's,
// then the stack file's with its ${...} references resolved. A stack-file
// name the platform also sets, as a variable or an injected secret, carries
// the same reference (config checks that), so the platform's value stands:
// ECS refuses a name given twice.
func (c *Compute) environment(s config.Service) (pulumi.StringMap, error) {
	env := c.platformEnvironment(s)
	for name, value := range s.Environment {
		if _, platform := config.PlatformEnvironment[name]; platform {
			continue
		}
		resolved, err := c.resolve(value)
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", name, err)
		}
		env[name] = resolved
	}
	return env, nil
}

// resolve replaces the ${...} references of a value with platform facts.
func (c *Compute) resolve(value string) (pulumi.StringInput, error) {
	refs := config.References(value)
	if len(refs) == 0 {
		return pulumi.String(value), nil
	}
	inputs := make([]any, len(refs))
	for i, ref := range refs {
		fact, ok := c.facts[ref]
		if !ok {
			return nil, fmt.Errorf("${%s} is not a fact this stack has", ref)
		}
		inputs[i] = fact
	}
	return pulumi.All(inputs...).ApplyT(func(v []any) string {
		out := value
		for i, ref := range refs {
			out = strings.Replace(out, "${"+ref+"}", fmt.Sprint(v[i]), 1)
		}
		return out
	}).(pulumi.StringOutput), nil
}

// injected is what ECS injects into the app container: the platform's
// facts and the service's own secrets. The task definition names them, the
// execution role may read exactly them.
func (c *Compute) injected(ctx *pulumi.Context, s config.Service) ([]containerSecret, error) {
	secrets := append([]containerSecret(nil), c.platformSecrets...)
	for _, name := range slices.Sorted(maps.Keys(s.Secrets)) {
		src := s.Secrets[name]
		valueFrom, readable, err := c.secretSource(ctx, s.Name, name, src)
		if err != nil {
			return nil, err
		}
		secrets = append(secrets, containerSecret{name: name, valueFrom: valueFrom, readable: readable, parameter: src.Parameter != ""})
	}
	return secrets, nil
}

// taskDefinition describes one service's task: the app container and its
// sidecars, inside the task's CPU and memory.
func (c *Compute) taskDefinition(ctx *pulumi.Context, s config.Service, image pulumi.StringInput, secrets []containerSecret,
	logGroup *cloudwatch.LogGroup, execRole, taskRole *iam.Role, agentConfigArn pulumi.StringInput) (*ecs.TaskDefinition, error) {
	args := c.args
	env, err := c.environment(s)
	if err != nil {
		return nil, err
	}
	secretMap := pulumi.StringMap{}
	for _, sec := range secrets {
		secretMap[sec.name] = sec.valueFrom
	}
	if agentConfigArn == nil {
		agentConfigArn = pulumi.String("")
	}
	definitions := pulumi.All(image, logGroup.Name, env.ToStringMapOutput(), secretMap.ToStringMapOutput(), agentConfigArn).
		ApplyT(func(v []any) (string, error) {
			logs := func(prefix string) map[string]any {
				return map[string]any{"logDriver": "awslogs", "options": map[string]string{
					"awslogs-group": v[1].(string), "awslogs-region": args.Region, "awslogs-stream-prefix": prefix,
				}}
			}
			app := c.appContainer(s, v[0].(string), v[2].(map[string]string), v[3].(map[string]string), logs(s.Name))
			containers := []any{app}
			if s.Tracing {
				containers = append(containers, map[string]any{
					"name": CollectorContainer, "image": collectorImage, "essential": false,
					"cpu": config.TracingSidecarCPU, "memory": config.TracingSidecarMemory,
					"command":                []string{collectorConfig},
					"readonlyRootFilesystem": true, "privileged": false,
					"logConfiguration": logs(s.Name + "-otel"),
				})
			}
			if s.Metrics == config.MetricsStatsd {
				containers = append(containers, map[string]any{
					"name": AgentContainer, "image": agentImage, "essential": false,
					"cpu": config.MetricsSidecarCPU, "memory": config.MetricsSidecarMemory,
					"secrets": []map[string]any{{"name": "CW_CONFIG_CONTENT", "valueFrom": v[4]}},
					// The agent writes its translated configuration and state
					// under /opt/aws/amazon-cloudwatch-agent at start.
					"readonlyRootFilesystem": false, "privileged": false,
					"logConfiguration": logs(s.Name + "-cloudwatch-agent"),
				})
			}
			b, err := json.Marshal(containers)
			return string(b), err
		}).(pulumi.StringOutput)

	architecture := "X86_64"
	if s.Architecture == config.ArchitectureARM {
		architecture = "ARM64"
	}
	return ecs.NewTaskDefinition(ctx, s.Name, &ecs.TaskDefinitionArgs{
		Family:                  pulumi.String(args.Project + "-" + args.Environment + "-" + s.Name),
		NetworkMode:             pulumi.String("awsvpc"),
		RequiresCompatibilities: pulumi.ToStringArray([]string{"FARGATE"}),
		Cpu:                     pulumi.String(fmt.Sprint(s.CPU)),
		Memory:                  pulumi.String(fmt.Sprint(s.Memory)),
		ExecutionRoleArn:        execRole.Arn,
		TaskRoleArn:             taskRole.Arn,
		RuntimePlatform: &ecs.TaskDefinitionRuntimePlatformArgs{
			OperatingSystemFamily: pulumi.String("LINUX"), CpuArchitecture: pulumi.String(architecture),
		},
		ContainerDefinitions: definitions,
		// Task storage for the writable /tmp of a read-only container.
		Volumes: ecs.TaskDefinitionVolumeArray{ecs.TaskDefinitionVolumeArgs{Name: pulumi.String(scratchVolume)}},
	}, pulumi.Parent(c))
}

// appContainer is the service's own container.
func (c *Compute) appContainer(s config.Service, image string, env, secrets map[string]string, logs map[string]any) map[string]any {
	container := map[string]any{
		"name":                   s.Name,
		"image":                  image,
		"essential":              true,
		"readonlyRootFilesystem": s.ReadOnlyRootFilesystem,
		"privileged":             false,
		"environment":            nameValues(env, "value"),
		"secrets":                nameValues(secrets, "valueFrom"),
		"logConfiguration":       logs,
	}
	if len(s.Command) > 0 {
		container["command"] = s.Command
	}
	if s.StopTimeout > 0 {
		container["stopTimeout"] = s.StopTimeout
	}
	if s.ReadOnlyRootFilesystem {
		container["mountPoints"] = []map[string]any{{"sourceVolume": scratchVolume, "containerPath": "/tmp", "readOnly": false}}
	}
	if s.Tracing {
		// Spans sent before the collector listens would be lost.
		container["dependsOn"] = []map[string]string{{"containerName": CollectorContainer, "condition": "START"}}
	}
	if s.Port > 0 {
		container["portMappings"] = []map[string]any{{"containerPort": s.Port, "protocol": "tcp", "name": s.Name}}
	}
	if s.ContainerHealthCheck && s.Port > 0 {
		path := s.HealthCheckPath
		if path == "" {
			path = "/health"
		}
		container["healthCheck"] = map[string]any{
			"command":     HealthCheckCommand(s.Port, path),
			"interval":    healthInterval,
			"timeout":     healthTimeout,
			"retries":     healthRetries,
			"startPeriod": healthStartPeriod,
		}
	}
	return container
}

// nameValues renders a map as ECS's [{name, <field>}] list, sorted.
func nameValues(m map[string]string, field string) []map[string]string {
	keys := slices.Sorted(maps.Keys(m))
	out := make([]map[string]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, map[string]string{"name": k, field: m[k]})
	}
	return out
}

// HealthCheckCommand is a container's health check: an HTTP GET of path on
// the container's own port. Slim images carry curl or busybox's wget,
// rarely both, so the check tries one then the other, which takes a shell;
// the URL reaches that shell as one single-quoted word, so that a query
// string's & (or anything else in it) is never shell syntax. The config
// validator already refuses paths with characters a shell would read.
func HealthCheckCommand(port int, path string) []string {
	url := shellQuote(fmt.Sprintf("http://localhost:%d%s", port, path))
	return []string{"CMD-SHELL", fmt.Sprintf("curl -fsS -o /dev/null %s || wget -q -O /dev/null %s || exit 1", url, url)}
}

// shellQuote makes s one word for a POSIX shell: inside single quotes
// nothing is special, and a single quote is closed, escaped and reopened.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
