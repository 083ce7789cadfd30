package onboarding

import "strings"

// CallerAllowed reports whether the IAM identity Lambda authenticated
// (userArn, as in the function URL's request context) is one of the
// principals the stack names (role and user ARNs). The function's resource
// policy already admits only them; this check also keeps out principals of
// the same account whose own policies allow lambda:InvokeFunctionUrl on
// everything (administrators, CI roles), which a resource policy cannot.
//
// A role's session is arn:<partition>:sts::<account>:assumed-role/<name>/<session>:
// it matches the role arn:<partition>:iam::<account>:role/<path/><name>,
// whose path a session's ARN does not carry.
func CallerAllowed(userArn string, allowed []string) bool {
	caller, ok := parseARN(userArn)
	if !ok {
		return false
	}
	for _, a := range allowed {
		p, ok := parseARN(a)
		if !ok || p.partition != caller.partition || p.account != caller.account {
			continue
		}
		switch {
		case caller.service == "sts" && strings.HasPrefix(caller.resource, "assumed-role/") && p.service == "iam" && strings.HasPrefix(p.resource, "role/"):
			session := strings.Split(strings.TrimPrefix(caller.resource, "assumed-role/"), "/")
			role := strings.Split(p.resource, "/")
			if len(session) == 2 && session[0] == role[len(role)-1] {
				return true
			}
		case caller.service == "iam" && p.service == "iam" && strings.HasPrefix(p.resource, "user/") && caller.resource == p.resource:
			return true
		}
	}
	return false
}

type arn struct{ partition, service, account, resource string }

func parseARN(s string) (arn, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[4] == "" || parts[5] == "" {
		return arn{}, false
	}
	return arn{partition: parts[1], service: parts[2], account: parts[4], resource: parts[5]}, true
}
