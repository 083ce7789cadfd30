// Package tests runs the whole program on the real stack files, under the
// shared recording mock, and asserts what must hold in every environment.
package tests

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/saas-platform/saas-platform/internal/plan"
)

// Type tokens the assertions look for.
const (
	providerType = "pulumi:providers:aws"
	vpcType      = "awsx:ec2:Vpc"
	endpointType = "aws:ec2/vpcEndpoint:VpcEndpoint"
	sgType       = "aws:ec2/securityGroup:SecurityGroup"
	ingressType  = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
	flowLogType  = "aws:ec2/flowLog:FlowLog"
)

var stacks = []string{"dev", "prod"}

// planStack runs the program on Pulumi.<stack>.yaml at the repository root.
func planStack(t *testing.T, stack string) *plan.Result {
	t.Helper()
	result, err := plan.RunStackFile("..", "../Pulumi."+stack+".yaml", stack)
	require.NoError(t, err)
	require.NotEmpty(t, result.Resources)
	return result
}

// groupIDs maps security group ids to their role: lb, services, db, ...
func groupIDs(result *plan.Result, stack string) map[string]string {
	roles := map[string]string{}
	prefix := "saas-platform-" + stack + "-"
	for _, sg := range plan.OfType(result.Resources, sgType) {
		roles[sg.ID] = sg.Name[len(prefix):]
	}
	return roles
}

// statement is one statement of an IAM policy document.
type statement struct {
	Sid      string
	Effect   string
	Action   []string
	Resource []string
}

func statementsOf(t *testing.T, p plan.Resource) []statement {
	t.Helper()
	var doc struct{ Statement []statement }
	require.NoError(t, json.Unmarshal([]byte(p.String("policy")), &doc), p.Name)
	return doc.Statement
}
