"""Checks that the running moto behaves as the local stack needs.

Run by `scripts/local verify` (and CI) against the emulator on MOTO_PORT.
Each check is one behaviour docs/local-stack.md documents and the stack file
or scripts/local relies on: when moto changes (a newer release implements a
missing call, or stops reporting services running), a check fails and names
what to revisit. It works in its own region, so the local stack is left as
it is.
"""

import io
import os
import sys
import time
import zipfile

import boto3
import botocore.config
import moto

PORT = os.environ["MOTO_PORT"]
REGION = "eu-west-3"
# One attempt per call: an unimplemented call answers HTTP 500, which the
# default retries would repeat.
KW = dict(endpoint_url=f"http://127.0.0.1:{PORT}", region_name=REGION,
          aws_access_key_id="test", aws_secret_access_key="test",
          config=botocore.config.Config(retries={"max_attempts": 1}))
PREFIX = f"local-check-{int(time.time())}"

failures = []


def check(name, ok, revisit):
    print(f"{'ok  ' if ok else 'FAIL'} {name}")
    if not ok:
        failures.append(f"{name}: {revisit}")


def fails(call):
    try:
        call()
        return False
    except Exception:  # an error answer, or a 500 page botocore cannot parse
        return True


check(f"moto is {os.environ['MOTO_VERSION_PINNED']}", moto.__version__ == os.environ["MOTO_VERSION_PINNED"],
      f"the emulator's moto is {moto.__version__}: re-check every behaviour below and the pin in scripts/local.py")

ec2 = boto3.client("ec2", **KW)
vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.99.1.0/24")["Subnet"]["SubnetId"]
group = ec2.create_security_group(GroupName=PREFIX, Description="check", VpcId=vpc)["GroupId"]

cache = boto3.client("elasticache", **KW)
check("ElastiCache CreateCacheParameterGroup is not implemented",
      fails(lambda: cache.create_cache_parameter_group(CacheParameterGroupName=PREFIX, CacheParameterGroupFamily="redis7",
                                                       Description="check")),
      "moto now creates cache parameter groups: Pulumi.local.yaml may drop cache.parameterGroup: default")

cache.create_cache_subnet_group(CacheSubnetGroupName=PREFIX, CacheSubnetGroupDescription="check", SubnetIds=[subnet])
# As the dev preset builds it: cluster mode, one shard of a primary and a
# replica, automatic failover, TLS and AUTH.
created = cache.create_replication_group(ReplicationGroupId=PREFIX, ReplicationGroupDescription="check",
                                         CacheNodeType="cache.t4g.micro", Engine="redis", NumNodeGroups=1,
                                         ReplicasPerNodeGroup=1, AutomaticFailoverEnabled=True, MultiAZEnabled=True,
                                         ClusterMode="enabled", TransitEncryptionEnabled=True, AuthToken="check" * 8,
                                         CacheSubnetGroupName=PREFIX,
                                         CacheParameterGroupName="default.redis7.cluster.on")
check("ElastiCache creates a cluster-mode replication group, available at once",
      created["ReplicationGroup"]["Status"] == "available" and created["ReplicationGroup"].get("ClusterEnabled") is True,
      "the local stack's Redis would not come up")
cache.delete_replication_group(ReplicationGroupId=PREFIX)
time.sleep(1)
status = cache.describe_replication_groups(ReplicationGroupId=PREFIX)["ReplicationGroups"][0]["Status"]
check("ElastiCache DeleteReplicationGroup leaves the group 'deleting' for ever", status == "deleting",
      "moto now deletes replication groups: scripts/local down may destroy them (UNDELETABLE in scripts/local.py)")
check("ElastiCache DeleteCacheSubnetGroup is not implemented (HTTP 500)",
      fails(lambda: cache.delete_cache_subnet_group(CacheSubnetGroupName=PREFIX)),
      "moto now deletes cache subnet groups: scripts/local down may destroy them (UNDELETABLE in scripts/local.py)")

cloudwatch = boto3.client("cloudwatch", **KW)
cloudwatch.put_metric_alarm(AlarmName=PREFIX, MetricName="CPUUtilization", Namespace="AWS/ECS", Statistic="Average",
                            Period=300, EvaluationPeriods=1, Threshold=80, ComparisonOperator="GreaterThanThreshold")
check("CloudWatch PutCompositeAlarm is not implemented",
      fails(lambda: cloudwatch.put_composite_alarm(AlarmName=PREFIX + "-composite", AlarmRule=f'ALARM("{PREFIX}")')),
      "moto now has composite alarms: Pulumi.local.yaml may drop alarms.composite: false")

iam = boto3.client("iam", **KW)
check("IAM has AWS's managed policies (MOTO_IAM_LOAD_MANAGED_POLICIES=true)",
      not fails(lambda: iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole")),
      "start moto with MOTO_IAM_LOAD_MANAGED_POLICIES=true: a prod-sized stack's RDS monitoring role attaches it")

ecs = boto3.client("ecs", **KW)
ecs.create_cluster(clusterName=PREFIX)
ecs.register_task_definition(family=PREFIX, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
                             memory="512", containerDefinitions=[{"name": "app", "image": "app", "essential": True}])
running = int(os.environ["MOTO_ECS_SERVICE_RUNNING"])
service = ecs.create_service(cluster=PREFIX, serviceName=PREFIX, taskDefinition=PREFIX, desiredCount=running,
                             launchType="FARGATE",
                             networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}})
described = ecs.describe_services(cluster=PREFIX, services=[PREFIX])["services"][0]
check(f"ECS reports services running (MOTO_ECS_SERVICE_RUNNING={running}), their deployment completed",
      described["runningCount"] == running and described["deployments"][0].get("rolloutState") == "COMPLETED",
      "start moto with MOTO_ECS_SERVICE_RUNNING set to the services' desired count: a stack that waits for a "
      "steady state (compute.waitForSteadyState) would wait for ever")

lam = boto3.client("lambda", **KW)
role = iam.create_role(RoleName=PREFIX, AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}')["Role"]["Arn"]
archive = io.BytesIO()
with zipfile.ZipFile(archive, "w") as z:
    z.writestr("bootstrap", "#!/bin/sh\n")
lam.create_function(FunctionName=PREFIX, Runtime="provided.al2023", Role=role, Handler="bootstrap",
                    Code={"ZipFile": archive.getvalue()})
check("Lambda functions are created (the provisioner's function deploys)",
      lam.get_function(FunctionName=PREFIX)["Configuration"]["FunctionName"] == PREFIX,
      "the pool tenants' provisioner would not deploy")

if failures:
    print("\nmoto does not behave as the local stack expects:", file=sys.stderr)
    for f in failures:
        print(f"  - {f}", file=sys.stderr)
    sys.exit(1)
print(f"moto {moto.__version__} behaves as the local stack expects")
