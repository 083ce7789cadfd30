package tests

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/components/compute"
	"github.com/saas-platform/saas-platform/components/data"
	"github.com/saas-platform/saas-platform/internal/plan"
)

// The security-controls suite: each applicable AWS Foundational Security
// Best Practices control is one test, run on every stack below. A control
// fails when the program breaks it; change the code, not the test.

// controlStacks are the stacks every control runs on, with their sizing.
var controlStacks = []struct{ name, file, sizing string }{
	{"dev", "../Pulumi.dev.yaml", "dev"},
	{"prod", "../Pulumi.prod.yaml", "prod"},
	{"every-plan", "testdata/Pulumi.every-plan.yaml", "dev"},
	{"data-contract", "testdata/Pulumi.data-contract.yaml", "dev"},
}

// costExceptions are the controls the dev preset does not meet on purpose,
// and why. They are skipped for dev-sized stacks only: prod must pass them.
var costExceptions = map[string]string{
	"EC2.6":  "no VPC flow logs in dev: a disposable network's traffic is not audited",
	"ECS.12": "Container Insights off in dev: it is billed per metric",
	"ELB.1":  "dev serves HTTP until a certificate is configured",
	"ELB.5":  "no load balancer access logs in dev",
	"ELB.6":  "no deletion protection on dev's load balancer: dev is torn down freely",
	"ELB.16": "no WAF in dev: the web ACL and its managed rules cost more than dev's traffic is worth",
	"RDS.5":  "single-AZ databases in dev: a standby doubles the cost of a disposable environment",
	"RDS.6":  "no enhanced monitoring in dev",
	"RDS.8":  "no deletion protection in dev: dev databases are disposable",
	"RDS.9":  "no log export in dev",
	"RDS.11": "1-day backups in dev (the control asks for 7)",
}

// controls lists every control the suite checks.
var controls = []string{
	"EC2.3", "EC2.6", "EC2.8", "EC2.9", "EC2.18", "ECR.1", "ECR.2", "ECR.3", "ECS.2", "ECS.4", "ECS.5", "ECS.8", "ECS.9", "ECS.12",
	"ELB.1", "ELB.4", "ELB.5", "ELB.6", "ELB.16", "KMS.4",
	"RDS.2", "RDS.3", "RDS.5", "RDS.6", "RDS.8", "RDS.9", "RDS.10", "RDS.11", "RDS.13", "RDS.17",
	"ElastiCache.1", "ElastiCache.2", "ElastiCache.3", "ElastiCache.4", "ElastiCache.5", "ElastiCache.6", "ElastiCache.7",
	"S3.5", "S3.8", "S3.17", "SNS.1",
	"CloudFront.1", "CloudFront.3", "CloudFront.5", "CloudFront.7", "CloudFront.10", "CloudFront.13",
}

var (
	controlPlans   = map[string]*plan.Result{}
	controlPlansMu sync.Mutex
)

func controlPlan(t *testing.T, name, file string) *plan.Result {
	t.Helper()
	controlPlansMu.Lock()
	defer controlPlansMu.Unlock()
	if r, ok := controlPlans[name]; ok {
		return r
	}
	r, err := plan.RunStackFile("..", file, name)
	require.NoError(t, err)
	controlPlans[name] = r
	return r
}

// control runs check on every stack, skipping a dev-sized stack only when
// the control is one of dev's cost exceptions.
func control(t *testing.T, id string, check func(t *testing.T, r *plan.Result)) {
	t.Helper()
	require.Contains(t, controls, id, "register %s in controls", id)
	for _, s := range controlStacks {
		t.Run(s.name, func(t *testing.T) {
			if reason, ok := costExceptions[id]; ok && s.sizing == "dev" {
				t.Skipf("%s is a dev cost exception: %s", id, reason)
			}
			check(t, controlPlan(t, s.name, s.file))
		})
	}
}

func TestTheCostExceptionsNameRealControls(t *testing.T) {
	for id := range costExceptions {
		assert.Contains(t, controls, id)
	}
}

func each(r *plan.Result, typ string, check func(plan.Resource)) int {
	rs := plan.OfType(r.Resources, typ)
	for _, res := range rs {
		check(res)
	}
	return len(rs)
}

const (
	rdsType   = "aws:rds/instance:Instance"
	cacheType = "aws:elasticache/replicationGroup:ReplicationGroup"
	albType   = "aws:lb/loadBalancer:LoadBalancer"
	ecrType   = "aws:ecr/repository:Repository"
	taskType  = "aws:ecs/taskDefinition:TaskDefinition"
)

func TestControl_EC2_6_VPCFlowLoggingIsEnabled(t *testing.T) {
	control(t, "EC2.6", func(t *testing.T, r *plan.Result) {
		n := each(r, "aws:ec2/flowLog:FlowLog", func(f plan.Resource) {
			assert.Equal(t, "ALL", f.String("trafficType"))
		})
		assert.Equal(t, 1, n)
	})
}

// The EC2 controls apply to the instances a stack runs: dev's NAT instance
// (prod has none, and passes by having nothing to break them).

func TestControl_EC2_3_AttachedVolumesAreEncrypted(t *testing.T) {
	control(t, "EC2.3", func(t *testing.T, r *plan.Result) {
		each(r, "aws:ec2/instance:Instance", func(i plan.Resource) {
			assert.True(t, i.Bool("rootBlockDevice.encrypted"), i.Name)
			assert.Zero(t, i.Count("ebsBlockDevices"), "%s: no volume but its encrypted root", i.Name)
		})
		assert.Empty(t, plan.OfType(r.Resources, "aws:ebs/volume:Volume"), "no volume of its own")
	})
}

func TestControl_EC2_8_InstancesRequireIMDSv2(t *testing.T) {
	control(t, "EC2.8", func(t *testing.T, r *plan.Result) {
		each(r, "aws:ec2/instance:Instance", func(i plan.Resource) {
			assert.Equal(t, "required", i.String("metadataOptions.httpTokens"), i.Name)
			assert.Equal(t, 1.0, i.Number("metadataOptions.httpPutResponseHopLimit"), "%s: no container or forwarded packet reaches the metadata service", i.Name)
		})
	})
}

// EC2.9 asks that no instance have a public IPv4 address. The NAT instance
// is the one that must: it is what the private subnets reach the internet
// through. Every other instance, and the NAT instance's group, are held to
// the control's intent: nothing public accepts the internet.
func TestControl_EC2_9_NoInstanceButTheNATHasAPublicAddress(t *testing.T) {
	control(t, "EC2.9", func(t *testing.T, r *plan.Result) {
		public := 0
		vpc := netip.MustParsePrefix(plan.OfType(r.Resources, vpcType)[0].String("cidrBlock"))
		each(r, "aws:ec2/instance:Instance", func(i plan.Resource) {
			if !i.Bool("associatePublicIpAddress") {
				return
			}
			public++
			assert.False(t, i.Bool("sourceDestCheck"), "%s has a public address and is not a NAT instance", i.Name)
			for _, rule := range plan.OfType(r.Resources, ingressType) {
				if slices.Contains(i.Strings("vpcSecurityGroupIds"), rule.String("securityGroupId")) {
					from, err := netip.ParsePrefix(rule.String("cidrIpv4"))
					assert.True(t, err == nil && vpc.Contains(from.Addr()) && from.Bits() >= vpc.Bits(),
						"%s: %s admits %s, outside the VPC", i.Name, rule.Name, rule.String("cidrIpv4"))
				}
			}
		})
		assert.LessOrEqual(t, public, 1, "one NAT instance at most")
	})
}

func TestControl_EC2_18_OnlyTheLoadBalancerAcceptsTheInternetOnlyOn80And443(t *testing.T) {
	control(t, "EC2.18", func(t *testing.T, r *plan.Result) {
		lb := ""
		for _, sg := range plan.OfType(r.Resources, sgType) {
			if strings.HasSuffix(sg.Name, "-lb") {
				lb = sg.ID
			}
		}
		assert.Positive(t, each(r, ingressType, func(rule plan.Resource) {
			if rule.String("cidrIpv4") == "0.0.0.0/0" || rule.String("cidrIpv6") == "::/0" {
				assert.Equal(t, lb, rule.String("securityGroupId"), rule.Name)
				assert.Contains(t, []float64{80, 443}, rule.Number("fromPort"), rule.Name)
				assert.Equal(t, rule.Number("fromPort"), rule.Number("toPort"), rule.Name)
			}
		}))
	})
}

func TestControl_ECR_1_ImagesAreScannedOnPush(t *testing.T) {
	control(t, "ECR.1", func(t *testing.T, r *plan.Result) {
		assert.Positive(t, each(r, ecrType, func(repo plan.Resource) {
			assert.True(t, repo.Bool("imageScanningConfiguration.scanOnPush"), repo.Name)
		}))
	})
}

func TestControl_ECR_2_TagsAreImmutable(t *testing.T) {
	control(t, "ECR.2", func(t *testing.T, r *plan.Result) {
		assert.Positive(t, each(r, ecrType, func(repo plan.Resource) {
			assert.Equal(t, "IMMUTABLE", repo.String("imageTagMutability"), repo.Name)
		}))
	})
}

func TestControl_ECR_3_RepositoriesHaveALifecyclePolicy(t *testing.T) {
	control(t, "ECR.3", func(t *testing.T, r *plan.Result) {
		assert.Equal(t, len(plan.OfType(r.Resources, ecrType)), len(plan.OfType(r.Resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy")))
	})
}

func TestControl_ECS_2_ServicesGetNoPublicIP(t *testing.T) {
	control(t, "ECS.2", func(t *testing.T, r *plan.Result) {
		assert.Positive(t, each(r, "aws:ecs/service:Service", func(s plan.Resource) {
			assert.False(t, s.Bool("networkConfiguration.assignPublicIp"), s.Name)
		}))
		each(r, "aws:cloudwatch/eventTarget:EventTarget", func(e plan.Resource) {
			assert.False(t, e.Bool("ecsTarget.networkConfiguration.assignPublicIp"), e.Name)
		})
	})
}

// containerDefs decodes every task definition's containers.
func containerDefs(t *testing.T, r *plan.Result) map[string]map[string]any {
	out := map[string]map[string]any{}
	each(r, taskType, func(td plan.Resource) {
		var defs []map[string]any
		require.NoError(t, json.Unmarshal([]byte(td.String("containerDefinitions")), &defs))
		for _, d := range defs {
			out[td.Name+"/"+d["name"].(string)] = d
		}
	})
	return out
}

func TestControl_ECS_4_ContainersAreNotPrivileged(t *testing.T) {
	control(t, "ECS.4", func(t *testing.T, r *plan.Result) {
		for name, c := range containerDefs(t, r) {
			assert.NotEqual(t, true, c["privileged"], name)
		}
	})
}

func TestControl_ECS_5_RootFilesystemsAreReadOnlyWherePossible(t *testing.T) {
	control(t, "ECS.5", func(t *testing.T, r *plan.Result) {
		settings := readOnlySettings(t, r)
		for name, c := range containerDefs(t, r) {
			service, container, _ := strings.Cut(name, "/")
			want, ok := settings[service]
			require.True(t, ok, "%s is not a service of the stack file", name)
			switch container {
			case service:
				assert.Equal(t, want, c["readonlyRootFilesystem"], "%s: read-only unless the stack file opts out", name)
			case compute.AgentContainer:
				// The CloudWatch agent writes its configuration at start.
				assert.Equal(t, false, c["readonlyRootFilesystem"], name)
			default:
				assert.Equal(t, true, c["readonlyRootFilesystem"], "%s: a sidecar is read-only", name)
			}
		}
	})
}

func TestControl_ECS_8_SecretsAreNotPassedAsEnvironmentVariables(t *testing.T) {
	control(t, "ECS.8", func(t *testing.T, r *plan.Result) {
		for name, c := range containerDefs(t, r) {
			env, _ := c["environment"].([]any)
			for _, e := range env {
				key := strings.ToUpper(e.(map[string]any)["name"].(string))
				value, _ := e.(map[string]any)["value"].(string)
				for _, word := range []string{"PASSWORD", "TOKEN", "KEY"} {
					assert.NotContains(t, key, word, name)
				}
				if strings.Contains(key, "SECRET") {
					// Only where to find a secret, never its value.
					assert.True(t, strings.HasSuffix(key, "_ARN") && strings.HasPrefix(value, "arn:aws:secretsmanager:"), "%s: %s", name, key)
				}
			}
			if service, container, _ := strings.Cut(name, "/"); service == container {
				secrets, _ := c["secrets"].([]any)
				assert.NotEmpty(t, secrets, "%s gets its credentials as ECS secrets", name)
			}
		}
	})
}

func TestControl_ECS_9_TaskDefinitionsLog(t *testing.T) {
	control(t, "ECS.9", func(t *testing.T, r *plan.Result) {
		for name, c := range containerDefs(t, r) {
			logs, _ := c["logConfiguration"].(map[string]any)
			assert.Equal(t, "awslogs", logs["logDriver"], name)
		}
	})
}

func TestControl_ECS_12_ClustersUseContainerInsights(t *testing.T) {
	control(t, "ECS.12", func(t *testing.T, r *plan.Result) {
		assert.Equal(t, 1, each(r, "aws:ecs/cluster:Cluster", func(c plan.Resource) {
			assert.Equal(t, "containerInsights", c.String("settings.0.name"))
			assert.Equal(t, "enabled", c.String("settings.0.value"))
		}))
	})
}

func TestControl_ELB_1_HTTPRedirectsToHTTPS(t *testing.T) {
	control(t, "ELB.1", func(t *testing.T, r *plan.Result) {
		http, ok := plan.Named(r.Resources, "aws:lb/listener:Listener", "saas-platform-"+r.Stack+"-http")
		require.True(t, ok)
		assert.Equal(t, "redirect", http.String("defaultActions.0.type"))
		assert.Equal(t, "HTTPS", http.String("defaultActions.0.redirect.protocol"))
	})
}

func TestControl_ELB_4_InvalidHeadersAreDropped(t *testing.T) {
	control(t, "ELB.4", func(t *testing.T, r *plan.Result) {
		assert.Equal(t, 1, each(r, albType, func(lb plan.Resource) { assert.True(t, lb.Bool("dropInvalidHeaderFields")) }))
	})
}

func TestControl_ELB_5_LoadBalancersLog(t *testing.T) {
	control(t, "ELB.5", func(t *testing.T, r *plan.Result) {
		assert.Positive(t, each(r, albType, func(lb plan.Resource) {
			assert.True(t, lb.Bool("accessLogs.enabled"))
			assert.NotEmpty(t, lb.String("accessLogs.bucket"))
		}))
	})
}

func TestControl_ELB_6_DeletionProtectionIsOn(t *testing.T) {
	control(t, "ELB.6", func(t *testing.T, r *plan.Result) {
		assert.Positive(t, each(r, albType, func(lb plan.Resource) { assert.True(t, lb.Bool("enableDeletionProtection")) }))
	})
}

func TestControl_ELB_16_AWAFWebACLProtectsTheLoadBalancer(t *testing.T) {
	control(t, "ELB.16", func(t *testing.T, r *plan.Result) {
		assert.Len(t, plan.OfType(r.Resources, "aws:wafv2/webAclAssociation:WebAclAssociation"), 1)
	})
}

func TestControl_KMS_4_KeysRotate(t *testing.T) {
	control(t, "KMS.4", func(t *testing.T, r *plan.Result) {
		assert.Positive(t, each(r, "aws:kms/key:Key", func(k plan.Resource) { assert.True(t, k.Bool("enableKeyRotation"), k.Name) }))
	})
}

func TestControl_RDS_2_DatabasesAreNotPublic(t *testing.T) {
	control(t, "RDS.2", func(t *testing.T, r *plan.Result) {
		assert.Positive(t, each(r, rdsType, func(db plan.Resource) { assert.False(t, db.Bool("publiclyAccessible"), db.Name) }))
	})
}

func TestControl_RDS_3_DatabasesAreEncryptedAtRest(t *testing.T) {
	control(t, "RDS.3", func(t *testing.T, r *plan.Result) {
		keyArn := r.Outputs["keyArn"]
		assert.Positive(t, each(r, rdsType, func(db plan.Resource) {
			assert.True(t, db.Bool("storageEncrypted"), db.Name)
			assert.Equal(t, keyArn, db.String("kmsKeyId"), db.Name)
		}))
	})
}

func TestControl_RDS_5_DatabasesAreMultiAZ(t *testing.T) {
	control(t, "RDS.5", func(t *testing.T, r *plan.Result) {
		assert.Positive(t, each(r, rdsType, func(db plan.Resource) {
			if db.String("tags.Plan") == "premium" {
				return // the premium plan buys a single-AZ instance (DESIGN.md's plan table)
			}
			assert.True(t, db.Bool("multiAz"), db.Name)
		}))
	})
}

func TestControl_RDS_6_EnhancedMonitoringIsOn(t *testing.T) {
	control(t, "RDS.6", func(t *testing.T, r *plan.Result) {
		assert.Positive(t, each(r, rdsType, func(db plan.Resource) {
			assert.Positive(t, db.Number("monitoringInterval"), db.Name)
			assert.NotEmpty(t, db.String("monitoringRoleArn"), db.Name)
		}))
	})
}

func TestControl_RDS_8_DeletionProtectionIsOn(t *testing.T) {
	control(t, "RDS.8", func(t *testing.T, r *plan.Result) {
		assert.Positive(t, each(r, rdsType, func(db plan.Resource) { assert.True(t, db.Bool("deletionProtection"), db.Name) }))
	})
}

func TestControl_RDS_9_DatabaseLogsGoToCloudWatch(t *testing.T) {
	control(t, "RDS.9", func(t *testing.T, r *plan.Result) {
		assert.Positive(t, each(r, rdsType, func(db plan.Resource) {
			assert.Contains(t, db.Strings("enabledCloudwatchLogsExports"), "postgresql", db.Name)
		}))
	})
}

func TestControl_RDS_10_IAMAuthenticationIsOn(t *testing.T) {
	control(t, "RDS.10", func(t *testing.T, r *plan.Result) {
		assert.Positive(t, each(r, rdsType, func(db plan.Resource) { assert.True(t, db.Bool("iamDatabaseAuthenticationEnabled"), db.Name) }))
	})
}

func TestControl_RDS_11_BackupsAreKeptAWeekOrMore(t *testing.T) {
	control(t, "RDS.11", func(t *testing.T, r *plan.Result) {
		assert.Positive(t, each(r, rdsType, func(db plan.Resource) {
			assert.GreaterOrEqual(t, db.Number("backupRetentionPeriod"), 7.0, db.Name)
		}))
	})
}

func TestControl_RDS_13_MinorVersionsUpgradeAutomatically(t *testing.T) {
	control(t, "RDS.13", func(t *testing.T, r *plan.Result) {
		assert.Positive(t, each(r, rdsType, func(db plan.Resource) { assert.True(t, db.Bool("autoMinorVersionUpgrade"), db.Name) }))
	})
}

func TestControl_RDS_17_SnapshotsCarryTheTags(t *testing.T) {
	control(t, "RDS.17", func(t *testing.T, r *plan.Result) {
		assert.Positive(t, each(r, rdsType, func(db plan.Resource) { assert.True(t, db.Bool("copyTagsToSnapshot"), db.Name) }))
	})
}

// The stack's cache is a replication group (mode nodes) or a serverless
// cache (mode serverless): each control holds for whichever the plan has,
// and every plan has exactly one.
const serverlessType = "aws:elasticache/serverlessCache:ServerlessCache"

func caches(t *testing.T, r *plan.Result, nodes, serverless func(c plan.Resource)) {
	t.Helper()
	n := each(r, cacheType, nodes) + each(r, serverlessType, serverless)
	assert.Equal(t, 1, n, "one cache per stack")
}

func TestControl_ElastiCache_1_SnapshotsAreTaken(t *testing.T) {
	control(t, "ElastiCache.1", func(t *testing.T, r *plan.Result) {
		positive := func(c plan.Resource) { assert.Positive(t, c.Number("snapshotRetentionLimit")) }
		caches(t, r, positive, func(c plan.Resource) {
			positive(c)
			assert.NotEmpty(t, c.String("dailySnapshotTime"))
		})
	})
}

func TestControl_ElastiCache_2_MinorVersionsUpgradeAutomatically(t *testing.T) {
	control(t, "ElastiCache.2", func(t *testing.T, r *plan.Result) {
		// A serverless cache runs the newest minor version of its major
		// one by itself: only its major version is given.
		caches(t, r, func(c plan.Resource) { assert.True(t, c.Bool("autoMinorVersionUpgrade")) },
			func(c plan.Resource) {
				assert.NotEmpty(t, c.String("majorEngineVersion"))
				assert.NotContains(t, c.String("majorEngineVersion"), ".", "a major version, not a pinned minor one")
			})
	})
}

func TestControl_ElastiCache_3_FailoverIsAutomatic(t *testing.T) {
	control(t, "ElastiCache.3", func(t *testing.T, r *plan.Result) {
		// ElastiCache Serverless replicates across AZs and fails over by
		// itself: there is nothing to set, only its subnets in two AZs.
		caches(t, r, func(c plan.Resource) {
			assert.True(t, c.Bool("automaticFailoverEnabled"))
			assert.True(t, c.Bool("multiAzEnabled"))
		}, func(c plan.Resource) { assert.GreaterOrEqual(t, len(c.Strings("subnetIds")), 2) })
	})
}

func TestControl_ElastiCache_4_RedisIsEncryptedAtRest(t *testing.T) {
	control(t, "ElastiCache.4", func(t *testing.T, r *plan.Result) {
		// A serverless cache is always encrypted at rest: with the stack's
		// key when it names one.
		caches(t, r, func(c plan.Resource) {
			assert.True(t, c.Bool("atRestEncryptionEnabled"))
			assert.Equal(t, r.Outputs["keyArn"], c.String("kmsKeyId"))
		}, func(c plan.Resource) { assert.Equal(t, r.Outputs["keyArn"], c.String("kmsKeyId")) })
	})
}

func TestControl_ElastiCache_5_RedisIsEncryptedInTransit(t *testing.T) {
	control(t, "ElastiCache.5", func(t *testing.T, r *plan.Result) {
		// A serverless cache has no plaintext endpoint: TLS is always on,
		// nothing to set; what the control needs is that clients reach it
		// only on its TLS port.
		caches(t, r, func(c plan.Resource) { assert.True(t, c.Bool("transitEncryptionEnabled")) },
			func(c plan.Resource) { assert.Equal(t, "valkey", c.String("engine")) })
	})
}

func TestControl_ElastiCache_6_RedisRequiresAuth(t *testing.T) {
	control(t, "ElastiCache.6", func(t *testing.T, r *plan.Result) {
		caches(t, r, func(c plan.Resource) { assert.Equal(t, "[secret]", c.String("authToken")) },
			func(c plan.Resource) {
				// Only the users of its group, whose default user needs the
				// (secret) AUTH token: no user without a password.
				require.NotEmpty(t, c.String("userGroupId"))
				var group plan.Resource
				for _, g := range plan.OfType(r.Resources, "aws:elasticache/userGroup:UserGroup") {
					if g.String("userGroupId") == c.String("userGroupId") {
						group = g
					}
				}
				require.NotEmpty(t, group.URN, "the cache's user group is in the plan")
				users := map[string]plan.Resource{}
				for _, u := range plan.OfType(r.Resources, "aws:elasticache/user:User") {
					users[u.String("userId")] = u
				}
				var names []string
				for _, id := range group.Strings("userIds") {
					u, ok := users[id]
					require.True(t, ok, "user %s is the program's", id)
					assert.Equal(t, "password", u.String("authenticationMode.type"), id)
					assert.Equal(t, []string{"[secret]"}, u.Strings("authenticationMode.passwords"), id)
					assert.False(t, u.Bool("noPasswordRequired"), id)
					assert.NotEqual(t, "default", id, "never AWS's own passwordless default user")
					names = append(names, u.String("userName"))
				}
				assert.Contains(t, names, data.DefaultUserName, "a client's AUTH <token> authenticates as default")
			})
	})
}

func TestControl_ElastiCache_7_RedisIsNotInTheDefaultSubnetGroup(t *testing.T) {
	control(t, "ElastiCache.7", func(t *testing.T, r *plan.Result) {
		isolated, _ := r.Outputs["isolatedSubnetIds"].([]any)
		caches(t, r, func(c plan.Resource) {
			assert.NotEmpty(t, c.String("subnetGroupName"))
			assert.NotEqual(t, "default", c.String("subnetGroupName"))
		}, func(c plan.Resource) {
			// No subnet group: its subnets, named, are the isolated ones.
			require.NotEmpty(t, c.Strings("subnetIds"))
			for _, s := range c.Strings("subnetIds") {
				assert.Contains(t, isolated, s)
			}
		})
	})
}

func TestControl_S3_5_BucketsRefuseInsecureTransport(t *testing.T) {
	control(t, "S3.5", func(t *testing.T, r *plan.Result) {
		buckets := len(plan.OfType(r.Resources, "aws:s3/bucketV2:BucketV2"))
		denies := each(r, "aws:s3/bucketPolicy:BucketPolicy", func(p plan.Resource) {
			assert.Contains(t, p.String("policy"), `"aws:SecureTransport":["false"]`)
		})
		assert.Equal(t, buckets, denies)
	})
}

func TestControl_S3_8_BucketsBlockPublicAccess(t *testing.T) {
	control(t, "S3.8", func(t *testing.T, r *plan.Result) {
		buckets := len(plan.OfType(r.Resources, "aws:s3/bucketV2:BucketV2"))
		blocks := each(r, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", func(b plan.Resource) {
			for _, k := range []string{"blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"} {
				assert.True(t, b.Bool(k), k)
			}
		})
		assert.Equal(t, buckets, blocks)
	})
}

// The stack's own buckets (tagged Bucket) use the environment's key. Two
// kinds cannot: access-log buckets (ALB and CloudFront deliver logs only to
// SSE-S3 buckets), and the static assets' bucket, which CloudFront's origin
// access control could read under KMS only if the key's policy admitted it.
func TestControl_S3_17_BucketsAreEncryptedWithKMSKeys(t *testing.T) {
	control(t, "S3.17", func(t *testing.T, r *plan.Result) {
		own := map[string]bool{}
		each(r, "aws:s3/bucketV2:BucketV2", func(b plan.Resource) {
			if b.String("tags.Bucket") != "" {
				own[b.ID] = true
			}
		})
		encrypted := 0
		each(r, "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2", func(c plan.Resource) {
			if !own[c.String("bucket")] {
				assert.Regexp(t, `(access-logs|-static)$`, c.Name, "only log and static-asset buckets may use SSE-S3")
				return
			}
			encrypted++
			assert.Equal(t, "aws:kms", c.String("rules.0.applyServerSideEncryptionByDefault.sseAlgorithm"), c.Name)
			assert.Contains(t, c.String("rules.0.applyServerSideEncryptionByDefault.kmsMasterKeyId"), ":key/", c.Name)
			assert.True(t, c.Bool("rules.0.bucketKeyEnabled"), c.Name)
		})
		assert.Equal(t, len(own), encrypted)
	})
}

// distributions runs check on every CloudFront distribution; prod serves
// static assets, so it has one.
func distributions(t *testing.T, r *plan.Result, check func(plan.Resource)) {
	t.Helper()
	n := each(r, "aws:cloudfront/distribution:Distribution", check)
	if r.Stack == "prod" {
		assert.Positive(t, n, "prod serves static assets through CloudFront")
	}
}

func TestControl_CloudFront_1_ADefaultRootObjectIsSet(t *testing.T) {
	control(t, "CloudFront.1", func(t *testing.T, r *plan.Result) {
		distributions(t, r, func(d plan.Resource) { assert.NotEmpty(t, d.String("defaultRootObject")) })
	})
}

func TestControl_CloudFront_3_ViewersUseHTTPS(t *testing.T) {
	control(t, "CloudFront.3", func(t *testing.T, r *plan.Result) {
		distributions(t, r, func(d plan.Resource) {
			assert.Contains(t, []string{"redirect-to-https", "https-only"}, d.String("defaultCacheBehavior.viewerProtocolPolicy"))
			assert.Zero(t, d.Count("orderedCacheBehaviors"), "every behaviour is the default one")
		})
	})
}

func TestControl_CloudFront_5_DistributionsLog(t *testing.T) {
	control(t, "CloudFront.5", func(t *testing.T, r *plan.Result) {
		distributions(t, r, func(d plan.Resource) { assert.NotEmpty(t, d.String("loggingConfig.bucket")) })
	})
}

func TestControl_CloudFront_7_DistributionsUseTheirOwnCertificate(t *testing.T) {
	control(t, "CloudFront.7", func(t *testing.T, r *plan.Result) {
		distributions(t, r, func(d plan.Resource) {
			assert.NotEmpty(t, d.String("viewerCertificate.acmCertificateArn"))
			assert.False(t, d.Bool("viewerCertificate.cloudfrontDefaultCertificate"))
			assert.Equal(t, "TLSv1.2_2021", d.String("viewerCertificate.minimumProtocolVersion"))
		})
	})
}

// CloudFront.10 is about custom origins' TLS: the only origin is S3, read
// through origin access control, so no custom origin may appear.
func TestControl_CloudFront_10_NoOriginSpeaksDeprecatedTLS(t *testing.T) {
	control(t, "CloudFront.10", func(t *testing.T, r *plan.Result) {
		distributions(t, r, func(d plan.Resource) {
			for i := range d.Count("origins") {
				assert.Nil(t, d.Input(fmt.Sprintf("origins.%d.customOriginConfig", i)), d.Name)
			}
		})
	})
}

func TestControl_CloudFront_13_S3OriginsUseOriginAccessControl(t *testing.T) {
	control(t, "CloudFront.13", func(t *testing.T, r *plan.Result) {
		distributions(t, r, func(d plan.Resource) {
			require.Positive(t, d.Count("origins"))
			for i := range d.Count("origins") {
				assert.NotEmpty(t, d.String(fmt.Sprintf("origins.%d.originAccessControlId", i)), d.Name)
			}
		})
	})
}

func TestControl_SNS_1_TopicsAreEncrypted(t *testing.T) {
	control(t, "SNS.1", func(t *testing.T, r *plan.Result) {
		// The one exception: ElastiCache marks an encrypted topic inactive
		// on its first message, so the topic it publishes its event names to
		// stays unencrypted (and only the cache and AWS Backup publish there).
		cacheTopic := func(topic plan.Resource) bool {
			for _, rg := range plan.OfType(r.Resources, cacheType) {
				if arn := rg.String("notificationTopicArn"); arn != "" && strings.HasSuffix(arn, ":"+topic.ID) {
					return true
				}
			}
			return false
		}
		assert.Positive(t, each(r, "aws:sns/topic:Topic", func(topic plan.Resource) {
			if !cacheTopic(topic) {
				assert.NotEmpty(t, topic.String("kmsMasterKeyId"), topic.Name)
			}
		}))
	})
}

// readOnlySettings maps each service of the stack a plan was made from to
// its readOnlyRootFilesystem setting.
func readOnlySettings(t *testing.T, r *plan.Result) map[string]bool {
	t.Helper()
	for _, s := range controlStacks {
		if s.name == r.Stack {
			settings := map[string]bool{}
			for _, svc := range stackConfigFile(t, s.file, s.name).Services {
				settings[svc.Name] = svc.ReadOnlyRootFilesystem
			}
			return settings
		}
	}
	t.Fatalf("unknown stack %s", r.Stack)
	return nil
}

func TestEveryRegisteredControlHasATestAndNoTestIsUnregistered(t *testing.T) {
	source, err := os.ReadFile("security_controls_test.go")
	require.NoError(t, err)
	var tested []string
	for _, m := range regexp.MustCompile(`control\(t, "([^"]+)"`).FindAllStringSubmatch(string(source), -1) {
		tested = append(tested, m[1])
	}
	slices.Sort(tested)
	registered := slices.Clone(controls)
	slices.Sort(registered)
	assert.Equal(t, registered, tested)
}
