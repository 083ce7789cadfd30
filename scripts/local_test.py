"""Tests of scripts/local.py's guard and of how `down` trims the state.

python3 -m unittest scripts/local_test.py (CI runs it).
"""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import local  # noqa: E402

with open(local.EXAMPLE) as f:
    EXAMPLE = f.read()


def stack_file(text):
    f = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    f.write(text)
    f.close()
    return f.name


class GuardTest(unittest.TestCase):
    def refused(self, text, words):
        path = stack_file(text)
        try:
            with self.assertRaises(local.Refusal) as caught:
                local.guard(path)
            for word in words:
                self.assertIn(word, str(caught.exception))
        finally:
            os.remove(path)

    def test_the_example_passes_and_names_its_port(self):
        path = stack_file(EXAMPLE)
        try:
            self.assertEqual(5000, local.guard(path))
        finally:
            os.remove(path)

    def test_an_endpoint_on_aws_is_refused_by_name(self):
        self.refused(EXAMPLE.replace("ec2: http://localhost:5000", "ec2: https://ec2.ap-northeast-1.amazonaws.com"),
                     ["aws:endpoints.ec2", "ec2.ap-northeast-1.amazonaws.com"])

    def test_an_endpoint_on_another_host_is_refused(self):
        self.refused(EXAMPLE.replace("rds: http://localhost:5000", "rds: http://10.0.0.5:5000"), ["aws:endpoints.rds"])

    def test_a_stack_file_without_endpoints_is_refused(self):
        text = EXAMPLE[:EXAMPLE.index("  aws:endpoints:")] + EXAMPLE[EXAMPLE.index("  saas-platform:sizing"):]
        self.refused(text, ["sets no aws:endpoints"])

    def test_endpoints_on_two_ports_are_refused(self):
        self.refused(EXAMPLE.replace("sts: http://localhost:5000", "sts: http://localhost:5001"), ["one port"])

    def test_a_profile_or_a_role_is_refused(self):
        self.refused(EXAMPLE.replace("  aws:accessKey: test\n", "  aws:profile: production\n"), ["aws:profile"])
        self.refused(EXAMPLE.replace("  aws:accessKey: test\n", "  aws:assumeRole: {roleArn: arn:aws:iam::1:role/x}\n"),
                     ["aws:assumeRole"])


class DownTest(unittest.TestCase):
    def test_what_moto_cannot_delete_leaves_the_state_with_every_reference_to_it(self):
        rg = "urn:pulumi:local::saas-platform::aws:elasticache/replicationGroup:ReplicationGroup::redis"
        sg = "urn:pulumi:local::saas-platform::aws:elasticache/subnetGroup:SubnetGroup::redis"
        alarm = "urn:pulumi:local::saas-platform::aws:cloudwatch/metricAlarm:MetricAlarm::redis-cpu"
        vpc = "urn:pulumi:local::saas-platform::awsx:ec2:Vpc::vpc"
        state = {"version": 3, "deployment": {"manifest": {}, "resources": [
            {"urn": vpc, "type": "awsx:ec2:Vpc"},
            {"urn": sg, "type": "aws:elasticache/subnetGroup:SubnetGroup", "dependencies": [vpc]},
            {"urn": rg, "type": "aws:elasticache/replicationGroup:ReplicationGroup", "dependencies": [sg],
             "propertyDependencies": {"subnetGroupName": [sg]}},
            {"urn": alarm, "type": "aws:cloudwatch/metricAlarm:MetricAlarm", "dependencies": [rg, vpc],
             "propertyDependencies": {"dimensions": [rg], "x": [vpc]}, "deletedWith": rg},
        ]}}
        trimmed, dropped = local.without_undeletable(state)
        self.assertEqual(sorted([rg, sg]), dropped)
        urns = [r["urn"] for r in trimmed["deployment"]["resources"]]
        self.assertEqual([vpc, alarm], urns)
        kept_alarm = trimmed["deployment"]["resources"][1]
        self.assertEqual([vpc], kept_alarm["dependencies"])
        self.assertEqual({"dimensions": [], "x": [vpc]}, kept_alarm["propertyDependencies"])
        self.assertNotIn("deletedWith", kept_alarm)
        self.assertEqual(4, len(state["deployment"]["resources"]), "the export itself is left as it was")


if __name__ == "__main__":
    unittest.main()
