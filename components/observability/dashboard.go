package observability

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// widget is a CloudWatch dashboard metric widget.
type widget struct {
	Type       string         `json:"type"`
	X          int            `json:"x"`
	Y          int            `json:"y"`
	Width      int            `json:"width"`
	Height     int            `json:"height"`
	Properties map[string]any `json:"properties"`
}

// dashboard draws, from the same lists the alarms use: each service's CPU
// and memory, the load balancer's requests, 5xx and latency per service,
// every database, and every Redis node.
func (o *Observability) dashboard(ctx *pulumi.Context, name string) (*cloudwatch.Dashboard, error) {
	inputs := []any{o.args.ClusterName, o.args.LoadBalancerArnSuffix}
	for _, s := range o.args.Services {
		if s.Routed {
			inputs = append(inputs, s.TargetGroupArnSuffix)
		}
	}
	body := pulumi.All(inputs...).ApplyT(func(v []any) (string, error) {
		cluster, alb := v[0].(string), v[1].(string)
		targetGroups := map[string]string{}
		i := 2
		for _, s := range o.args.Services {
			if s.Routed {
				targetGroups[s.Name] = v[i].(string)
				i++
			}
		}
		b, err := json.Marshal(map[string]any{"widgets": o.widgets(cluster, alb, targetGroups)})
		return string(b), err
	}).(pulumi.StringOutput)
	return cloudwatch.NewDashboard(ctx, name, &cloudwatch.DashboardArgs{
		DashboardName: pulumi.String(o.prefix),
		DashboardBody: body,
	}, pulumi.Parent(o))
}

func (o *Observability) widgets(cluster, alb string, targetGroups map[string]string) []widget {
	var out []widget
	y := 0
	add := func(title string, metrics [][]any, stat string) {
		x := (len(out) % 2) * 12
		out = append(out, widget{Type: "metric", X: x, Y: y, Width: 12, Height: 6, Properties: map[string]any{
			"title": title, "region": o.args.Region, "view": "timeSeries", "stacked": false,
			"period": o.args.Alarms.PeriodSeconds, "stat": stat, "metrics": metrics,
		}})
		if x == 12 {
			y += 6
		}
	}
	for _, s := range o.args.Services {
		add(s.Name+": CPU and memory (%)", [][]any{
			{"AWS/ECS", "CPUUtilization", "ClusterName", cluster, "ServiceName", s.Name},
			{"AWS/ECS", "MemoryUtilization", "ClusterName", cluster, "ServiceName", s.Name},
		}, "Average")
		if tg, ok := targetGroups[s.Name]; ok {
			add(s.Name+": requests, 5xx and p95 latency", [][]any{
				{"AWS/ApplicationELB", "RequestCount", "LoadBalancer", alb, "TargetGroup", tg, map[string]any{"stat": "Sum"}},
				{"AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", alb, "TargetGroup", tg, map[string]any{"stat": "Sum"}},
				{"AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", alb, "TargetGroup", tg, map[string]any{"stat": "p95", "yAxis": "right"}},
			}, "Sum")
		}
	}
	for _, db := range o.args.Databases {
		add("PostgreSQL "+db.Identifier, [][]any{
			{"AWS/RDS", "CPUUtilization", "DBInstanceIdentifier", db.Identifier},
			{"AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", db.Identifier, map[string]any{"yAxis": "right"}},
			{"AWS/RDS", "FreeStorageSpace", "DBInstanceIdentifier", db.Identifier, map[string]any{"yAxis": "right"}},
		}, "Average")
	}
	for _, node := range o.args.CacheNodes {
		add(fmt.Sprintf("Redis %s", node), [][]any{
			{"AWS/ElastiCache", "EngineCPUUtilization", "CacheClusterId", node},
			{"AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "CacheClusterId", node},
			{"AWS/ElastiCache", "Evictions", "CacheClusterId", node, map[string]any{"stat": "Sum", "yAxis": "right"}},
		}, "Average")
	}
	if c := o.args.ServerlessCache; c != nil {
		add("Valkey "+c.Name, [][]any{
			{"AWS/ElastiCache", "ElastiCacheProcessingUnits", ServerlessCacheDimension, c.Name, map[string]any{"stat": "Sum"}},
			{"AWS/ElastiCache", "BytesUsedForCache", ServerlessCacheDimension, c.Name, map[string]any{"stat": "Maximum", "yAxis": "right"}},
			{"AWS/ElastiCache", "ThrottledCmds", ServerlessCacheDimension, c.Name, map[string]any{"stat": "Sum"}},
		}, "Average")
	}
	return out
}
