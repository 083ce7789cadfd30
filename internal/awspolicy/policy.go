// Package awspolicy writes IAM policy documents as typed Go values, so that
// components build least-privilege policies without string templates and
// tests can read them back.
package awspolicy

import (
	"encoding/json"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a policy document.
type Statement struct {
	Sid       string              `json:"Sid,omitempty"`
	Effect    string              `json:"Effect"`
	Principal map[string][]string `json:"Principal,omitempty"`
	Action    []string            `json:"Action"`
	Resource  []string            `json:"Resource,omitempty"`
	Condition Condition           `json:"Condition,omitempty"`
}

// Condition maps an operator (StringEquals, ArnLike, ...) to keys and values.
type Condition map[string]map[string][]string

// New returns a document with the current policy language version.
func New(statements ...Statement) Document {
	return Document{Version: "2012-10-17", Statement: statements}
}

// With returns the document with more statements.
func (d Document) With(statements ...Statement) Document {
	d.Statement = append(append([]Statement{}, d.Statement...), statements...)
	return d
}

// String renders the document as JSON.
func (d Document) String() string {
	// Every field is a string or a slice or map of strings: Marshal cannot fail.
	b, _ := json.Marshal(d)
	return string(b)
}

// ServiceTrust lets an AWS service assume a role, only on behalf of account.
func ServiceTrust(service, account string) Document {
	return New(Statement{
		Effect:    "Allow",
		Principal: map[string][]string{"Service": {service}},
		Action:    []string{"sts:AssumeRole"},
		Condition: Condition{"StringEquals": {"aws:SourceAccount": {account}}},
	})
}

// Output renders a document built from resolved values of other resources.
func Output(build func(values []any) Document, inputs ...any) pulumi.StringOutput {
	return pulumi.All(inputs...).ApplyT(func(values []any) string {
		return build(values).String()
	}).(pulumi.StringOutput)
}
