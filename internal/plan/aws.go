package plan

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// idPrefixes are the shapes of AWS ids for the resource types that have one.
var idPrefixes = map[string]string{
	"aws:ec2/vpc:Vpc":                                           "vpc-",
	"aws:ec2/subnet:Subnet":                                     "subnet-",
	"aws:ec2/securityGroup:SecurityGroup":                       "sg-",
	"aws:ec2/vpcEndpoint:VpcEndpoint":                           "vpce-",
	"aws:ec2/flowLog:FlowLog":                                   "fl-",
	"aws:ec2/routeTable:RouteTable":                             "rtb-",
	"aws:ec2/instance:Instance":                                 "i-",
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
	"aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule":   "sgr-",
	"awsx:ec2:Vpc":                                              "vpc-",
}

// outputs returns what AWS would add to a resource's inputs once created.
func (m *Mocks) outputs(r Resource, id string, inputs resource.PropertyMap) resource.PropertyMap {
	m.mu.Lock()
	region := m.regions[r.Provider]
	m.mu.Unlock()
	if region != "" && region != m.region {
		// A resource of a second region's provider (the DR vault) answers
		// with that region in its ARN and addresses.
		m = &Mocks{project: m.project, stack: m.stack, region: region}
	}
	out := resource.PropertyMap{}
	set := func(k string, v any) { out[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }

	// Pulumi auto-names resources whose name is not given.
	name := r.Name + "-" + id[len(id)-7:]
	if v, ok := inputs["name"]; ok && v.IsString() {
		name = v.StringValue()
	} else if r.Custom {
		set("name", name)
	}

	service, kind := typeParts(r.Type)
	set("arn", m.arn(service, kind+"/"+name))

	switch r.Type {
	case "awsx:ec2:Vpc":
		zones := 0
		if v, ok := inputs["availabilityZoneNames"]; ok && v.IsArray() {
			zones = len(v.ArrayValue())
		}
		set("vpcId", id)
		set("publicSubnetIds", m.subnetIDs(r, "public", zones))
		set("privateSubnetIds", m.subnetIDs(r, "private", zones))
		set("isolatedSubnetIds", m.subnetIDs(r, "isolated", zones))
		m.allocateSubnets(r, inputs, zones)
	case "aws:ec2/instance:Instance":
		set("arn", m.arn("ec2", "instance/"+id))
		set("primaryNetworkInterfaceId", "eni-"+id[len(id)-17:])
	case "aws:cloudwatch/logGroup:LogGroup":
		set("arn", m.arn("logs", "log-group:"+name))
	case "aws:kms/key:Key":
		keyID := uuid(id)
		set("keyId", keyID)
		set("arn", m.arn("kms", "key/"+keyID))
	case "aws:rds/instance:Instance":
		identifier := str(inputs, "identifier", name)
		address := fmt.Sprintf("%s.c%s.%s.rds.amazonaws.com", identifier, id[len(id)-7:], m.region)
		set("arn", m.arn("rds", "db:"+identifier))
		set("address", address)
		set("endpoint", address+":5432")
		set("port", 5432)
		set("resourceId", "db-"+strings.ToUpper(id[len(id)-7:]))
		if b, ok := inputs["manageMasterUserPassword"]; ok && b.IsBool() && b.BoolValue() {
			set("masterUserSecrets", []any{map[string]any{
				"secretArn":    m.arn("secretsmanager", "secret:rds!db-"+uuid(id)+"-AbCdEf"),
				"secretStatus": "active",
			}})
		}
	case "aws:rds/parameterGroup:ParameterGroup", "aws:rds/subnetGroup:SubnetGroup":
		set("arn", m.arn("rds", "pg:"+name))
	case "aws:elasticache/replicationGroup:ReplicationGroup":
		group := str(inputs, "replicationGroupId", name)
		set("arn", m.arn("elasticache", "replicationgroup:"+group))
		set("primaryEndpointAddress", fmt.Sprintf("master.%s.abc123.%s.cache.amazonaws.com", group, regionCode(m.region)))
		set("configurationEndpointAddress", fmt.Sprintf("clustercfg.%s.abc123.%s.cache.amazonaws.com", group, regionCode(m.region)))
	case "aws:elasticache/serverlessCache:ServerlessCache":
		cache := str(inputs, "name", name)
		set("arn", m.arn("elasticache", "serverlesscache:"+cache))
		address := fmt.Sprintf("%s-abc123.serverless.%s.cache.amazonaws.com", cache, regionCode(m.region))
		set("endpoints", []any{map[string]any{"address": address, "port": 6379}})
		set("readerEndpoints", []any{map[string]any{"address": address, "port": 6380}})
	case "aws:secretsmanager/secret:Secret":
		set("arn", m.arn("secretsmanager", "secret:"+name+"-AbCdEf"))
	case "aws:lambda/function:Function":
		set("arn", m.arn("lambda", "function:"+name))
		set("invokeArn", fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", m.region, m.arn("lambda", "function:"+name)))
	case "aws:dynamodb/table:Table":
		set("arn", m.arn("dynamodb", "table/"+name))
	case "aws:sqs/queue:Queue":
		set("arn", m.arn("sqs", name))
		set("url", fmt.Sprintf("https://sqs.%s.amazonaws.com/%s/%s", m.region, AccountID, name))
	case "aws:lambda/functionUrl:FunctionUrl":
		urlID := fmt.Sprintf("%x", sha256.Sum256([]byte(id)))[:32]
		set("urlId", urlID)
		set("functionUrl", fmt.Sprintf("https://%s.lambda-url.%s.on.aws/", urlID, m.region))
	case "aws:ssm/parameter:Parameter":
		set("arn", m.arn("ssm", "parameter"+name))
	case "aws:lambda/invocation:Invocation":
		// The tenant provisioner answers with the secret it made, as
		// Secrets Manager names it.
		var event struct {
			Database   string `json:"database"`
			SecretName string `json:"secretName"`
		}
		if err := json.Unmarshal([]byte(str(inputs, "input", "{}")), &event); err == nil && event.SecretName != "" {
			result, _ := json.Marshal(map[string]string{
				"database": event.Database, "action": "create",
				"secretArn": m.arn("secretsmanager", "secret:"+event.SecretName+"-AbCdEf"),
			})
			set("result", string(result))
		}
	case "aws:ecr/repository:Repository":
		repo := str(inputs, "name", name)
		set("arn", m.arn("ecr", "repository/"+repo))
		set("registryId", AccountID)
		set("repositoryUrl", fmt.Sprintf("%s.dkr.ecr.%s.amazonaws.com/%s", AccountID, m.region, repo))
	case "aws:ecs/cluster:Cluster":
		set("arn", m.arn("ecs", "cluster/"+name))
	case "aws:ecs/taskDefinition:TaskDefinition":
		family := str(inputs, "family", name)
		set("arn", m.arn("ecs", "task-definition/"+family+":1"))
		set("arnWithoutRevision", m.arn("ecs", "task-definition/"+family))
		set("revision", 1)
	case "aws:ecs/service:Service":
		set("arn", m.arn("ecs", "service/"+name))
	case "aws:lb/loadBalancer:LoadBalancer":
		suffix := "app/" + name + "/" + id[len(id)-7:]
		set("arn", m.arn("elasticloadbalancing", "loadbalancer/"+suffix))
		set("arnSuffix", suffix)
		set("dnsName", fmt.Sprintf("%s-%s.%s.elb.amazonaws.com", name, id[len(id)-7:], m.region))
		set("zoneId", "Z14GRHDCWA56QT")
	case "aws:lb/targetGroup:TargetGroup":
		suffix := "targetgroup/" + name + "/" + id[len(id)-7:]
		set("arn", m.arn("elasticloadbalancing", suffix))
		set("arnSuffix", suffix)
	case "aws:lb/listener:Listener":
		set("arn", m.arn("elasticloadbalancing", "listener/app/"+name))
	case "aws:s3/bucketV2:BucketV2":
		set("bucket", name)
		set("arn", "arn:aws:s3:::"+name)
		set("bucketDomainName", name+".s3.amazonaws.com")
		set("bucketRegionalDomainName", fmt.Sprintf("%s.s3.%s.amazonaws.com", name, m.region))
	case "aws:acm/certificate:Certificate":
		set("arn", m.arn("acm", "certificate/"+uuid(id)))
		var names []string
		if v, ok := inputs["domainName"]; ok && v.IsString() {
			names = append(names, v.StringValue())
		}
		if v, ok := inputs["subjectAlternativeNames"]; ok && v.IsArray() {
			for _, san := range v.ArrayValue() {
				if san.IsString() {
					names = append(names, san.StringValue())
				}
			}
		}
		var options []any
		for _, n := range names {
			token := fmt.Sprintf("%x", sha256.Sum256([]byte(id+n)))[:32]
			options = append(options, map[string]any{
				"domainName":          n,
				"resourceRecordName":  "_" + token + "." + n + ".",
				"resourceRecordType":  "CNAME",
				"resourceRecordValue": "_" + token[:16] + ".acm-validations.aws.",
			})
		}
		set("domainValidationOptions", options)
	case "aws:acm/certificateValidation:CertificateValidation":
		set("certificateArn", str(inputs, "certificateArn", ""))
	case "aws:route53/record:Record":
		set("fqdn", strings.TrimSuffix(str(inputs, "name", name), "."))
	case "aws:route53/zone:Zone":
		set("zoneId", "Z"+strings.ToUpper(id[len(id)-12:]))
		set("nameServers", []any{"ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk", "ns-3.awsdns-03.com", "ns-4.awsdns-04.net"})
	case "aws:cloudfront/distribution:Distribution":
		distribution := "E" + strings.ToUpper(id[len(id)-12:])
		out["id"] = resource.NewStringProperty(distribution)
		set("arn", "arn:aws:cloudfront::"+AccountID+":distribution/"+distribution)
		set("domainName", "d"+id[len(id)-12:]+".cloudfront.net")
		set("hostedZoneId", "Z2FDTNDATAQYW2")
	case "aws:wafv2/webAcl:WebAcl":
		set("arn", m.arn("wafv2", "regional/webacl/"+name+"/"+uuid(id)))
	case "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace":
		set("arn", m.arn("servicediscovery", "namespace/ns-"+id[len(id)-7:]))
		set("hostedZone", "Z"+strings.ToUpper(id[len(id)-7:]))
	case "aws:servicediscovery/service:Service":
		set("arn", m.arn("servicediscovery", "service/srv-"+id[len(id)-7:]))
	case "aws:backup/vault:Vault":
		set("arn", m.arn("backup", "backup-vault:"+name))
	case "aws:backup/restoreTestingPlan:RestoreTestingPlan":
		set("arn", m.arn("backup", "restore-testing-plan:"+name+"-"+uuid(id)))
	case "aws:sns/topic:Topic":
		set("arn", m.arn("sns", name))
	case "aws:cloudwatch/metricAlarm:MetricAlarm", "aws:cloudwatch/compositeAlarm:CompositeAlarm":
		set("arn", m.arn("cloudwatch", "alarm:"+name))
	case "aws:cloudwatch/dashboard:Dashboard":
		set("dashboardArn", "arn:aws:cloudwatch::"+AccountID+":dashboard/"+name)
	case "aws:cloudwatch/eventRule:EventRule":
		set("arn", m.arn("events", "rule/"+name))
	case "random:index/randomPassword:RandomPassword":
		// The provider marks the result secret; so does the mock.
		out["result"] = resource.MakeSecret(resource.NewStringProperty("mock-" + id))
	case "random:index/randomId:RandomId":
		hex := fmt.Sprintf("%x", sha256.Sum256([]byte(id)))[:8]
		set("hex", hex)
		set("b64Url", hex)
	case "aws:iam/role:Role":
		set("arn", m.arn("iam", "role/"+name))
		set("uniqueId", "AROA"+strings.ToUpper(id[len(id)-7:]))
	}
	return out
}

// uuid shapes a stable, UUID-like id from a hash-based id.
func uuid(id string) string {
	h := fmt.Sprintf("%x", sha256.Sum256([]byte(id)))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func str(inputs resource.PropertyMap, key, fallback string) string {
	if v, ok := inputs[resource.PropertyKey(key)]; ok && v.IsString() {
		return v.StringValue()
	}
	return fallback
}

func (m *Mocks) subnetIDs(r Resource, tier string, zones int) []any {
	ids := make([]any, zones)
	for i := range ids {
		ids[i] = m.physicalID(Resource{Type: "aws:ec2/subnet:Subnet", URN: fmt.Sprintf("%s-%s-%d", r.URN, tier, i+1)})
	}
	return ids
}

// allocateSubnets records each subnet's CIDR as awsx's Auto strategy lays
// them out: one block per zone of availabilityZoneCidrMask, and in it the
// subnet specs in order, each aligned to its own size. getSubnet answers
// with them.
func (m *Mocks) allocateSubnets(r Resource, inputs resource.PropertyMap, zones int) {
	cidr, err := netip.ParsePrefix(str(inputs, "cidrBlock", ""))
	azMask, ok := inputs["availabilityZoneCidrMask"]
	specs, ok2 := inputs["subnetSpecs"]
	if err != nil || !ok || !azMask.IsNumber() || !ok2 || !specs.IsArray() {
		return
	}
	base := binary.BigEndian.Uint32(cidr.Addr().AsSlice())
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.subnetCidrs == nil {
		m.subnetCidrs = map[string]string{}
	}
	for zone := 0; zone < zones; zone++ {
		block := base + uint32(zone)<<(32-int(azMask.NumberValue()))
		var offset uint32
		for _, spec := range specs.ArrayValue() {
			if !spec.IsObject() {
				continue
			}
			tier := strings.ToLower(str(spec.ObjectValue(), "type", ""))
			mask, ok := spec.ObjectValue()["cidrMask"]
			if !ok || !mask.IsNumber() {
				continue
			}
			size := uint32(1) << (32 - int(mask.NumberValue()))
			offset = (offset + size - 1) / size * size
			var addr [4]byte
			binary.BigEndian.PutUint32(addr[:], block+offset)
			id := m.physicalID(Resource{Type: "aws:ec2/subnet:Subnet", URN: fmt.Sprintf("%s-%s-%d", r.URN, tier, zone+1)})
			m.subnetCidrs[id] = netip.PrefixFrom(netip.AddrFrom4(addr), int(mask.NumberValue())).String()
			offset += size
		}
	}
}

// typeParts splits "aws:ec2/securityGroup:SecurityGroup" into ("ec2", "security-group").
func typeParts(token string) (string, string) {
	parts := strings.Split(token, ":")
	if len(parts) != 3 {
		return "unknown", token
	}
	module := strings.Split(parts[1], "/")[0]
	var kind strings.Builder
	for i, c := range parts[2] {
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				kind.WriteByte('-')
			}
			c += 'a' - 'A'
		}
		kind.WriteRune(c)
	}
	return module, kind.String()
}

// functions answers the data sources the program reads.
var functions = map[string]func(m *Mocks, args map[string]any) map[string]any{
	"aws:index/getAvailabilityZones:getAvailabilityZones": func(m *Mocks, _ map[string]any) map[string]any {
		var names, ids []any
		for i, suffix := range "abcdef" {
			names = append(names, m.region+string(suffix))
			ids = append(ids, fmt.Sprintf("%s-az%d", regionCode(m.region), i+1))
		}
		return map[string]any{"id": m.region, "names": names, "zoneIds": ids, "groupNames": names}
	},
	"aws:index/getCallerIdentity:getCallerIdentity": func(m *Mocks, _ map[string]any) map[string]any {
		return map[string]any{
			"id": AccountID, "accountId": AccountID, "userId": "AIDAOFFLINEPLAN",
			"arn": fmt.Sprintf("arn:aws:iam::%s:user/offline-plan", AccountID),
		}
	},
	"aws:index/getRegion:getRegion": func(m *Mocks, _ map[string]any) map[string]any {
		return map[string]any{"id": m.region, "name": m.region, "region": m.region, "endpoint": "ec2." + m.region + ".amazonaws.com"}
	},
	"aws:index/getPartition:getPartition": func(m *Mocks, _ map[string]any) map[string]any {
		return map[string]any{"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com"}
	},
	"aws:route53/getZone:getZone": func(m *Mocks, args map[string]any) map[string]any {
		zone, _ := args["name"].(string)
		sum := fmt.Sprintf("%X", sha256.Sum256([]byte(zone)))
		return map[string]any{
			"id": "Z" + sum[:12], "zoneId": "Z" + sum[:12], "name": zone, "privateZone": false,
			"nameServers": []any{"ns-1.awsdns-01.org", "ns-2.awsdns-02.co.uk"},
		}
	},
	"aws:elb/getServiceAccount:getServiceAccount": func(m *Mocks, _ map[string]any) map[string]any {
		// The region's Elastic Load Balancing account (ap-northeast-1's, whatever the region).
		return map[string]any{"id": "582318560864", "arn": "arn:aws:iam::582318560864:root"}
	},
	"aws:ec2/getSubnet:getSubnet": func(m *Mocks, args map[string]any) map[string]any {
		id, _ := args["id"].(string)
		m.mu.Lock()
		cidr := m.subnetCidrs[id]
		m.mu.Unlock()
		return map[string]any{"id": id, "cidrBlock": cidr}
	},
	"aws:ec2/getRouteTable:getRouteTable": func(m *Mocks, args map[string]any) map[string]any {
		// Each subnet of the awsx VPC has a route table of its own.
		subnet, _ := args["subnetId"].(string)
		id := m.physicalID(Resource{Type: "aws:ec2/routeTable:RouteTable", URN: "route-table-of-" + subnet})
		return map[string]any{"id": id, "routeTableId": id, "subnetId": subnet}
	},
	"aws:ssm/getParameter:getParameter": func(m *Mocks, args map[string]any) map[string]any {
		name, _ := args["name"].(string)
		value := fmt.Sprintf("ami-%x", sha256.Sum256([]byte(m.region+name)))[:21]
		return map[string]any{"id": name, "name": name, "type": "String", "value": value, "insecureValue": value}
	},
	"aws:ec2/getRouteTables:getRouteTables": func(m *Mocks, args map[string]any) map[string]any {
		vpc, _ := args["vpcId"].(string)
		var ids []any
		for i := 0; i < 4; i++ {
			ids = append(ids, m.physicalID(Resource{Type: "aws:ec2/routeTable:RouteTable", URN: fmt.Sprintf("%s-%d", vpc, i)}))
		}
		return map[string]any{"id": m.region, "ids": ids, "vpcId": vpc}
	},
}

// regionCode abbreviates ap-northeast-1 to apne1, as AWS zone ids do.
func regionCode(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) != 3 {
		return region
	}
	dir := map[string]string{"north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
		"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw"}[parts[1]]
	return parts[0] + dir + parts[2]
}
