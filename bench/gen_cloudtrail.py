"""Seeded generator of a realistic CloudTrail corpus, laid out as AWS delivers it.

``AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<ts>_<rand>.json.gz``
files of ``{"Records": [...]}`` with ~``per_file`` records each. Records vary: ~120 event
names over ~25 services with a realistic read/write mix, IAM users, assumed roles (with
session context and MFA flags), AWS services (invokedBy), root; IPv4 and IPv6 source
addresses and service hostnames; ~6% error events (AccessDenied, throttling...); nested
requestParameters/responseElements of varying depth; resources arrays; ConsoleLogin events
(with MFAUsed). Same seed, same bytes.

Usage: python bench/gen_cloudtrail.py OUT_DIR --size-mb 200 [--seed 7]
Library: ``write_corpus(out, size_mb, seed) -> dict`` and ``records(n, seed)``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SERVICES: dict[str, list[str]] = {
    "ec2": ["DescribeInstances", "RunInstances", "TerminateInstances", "StartInstances", "StopInstances",
            "AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress", "CreateSecurityGroup",
            "DeleteSecurityGroup", "DescribeSecurityGroups", "CreateVpc", "DeleteVpc", "CreateRoute",
            "CreateNetworkAcl", "CreateNetworkAclEntry", "AttachInternetGateway", "DescribeVolumes",
            "CreateSnapshot", "ModifyInstanceAttribute", "DescribeRegions"],
    "iam": ["ListUsers", "GetUser", "CreateUser", "DeleteUser", "AttachUserPolicy", "DetachUserPolicy",
            "PutUserPolicy", "CreateAccessKey", "DeleteAccessKey", "CreateRole", "AttachRolePolicy",
            "PutRolePolicy", "CreatePolicyVersion", "ListRoles", "GetRole", "UpdateAssumeRolePolicy",
            "CreateLoginProfile", "UpdateLoginProfile", "DeactivateMFADevice", "ListAccessKeys"],
    "s3": ["GetObject", "PutObject", "ListBuckets", "GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy",
           "PutBucketAcl", "CreateBucket", "DeleteBucket", "PutBucketPublicAccessBlock", "HeadObject",
           "GetBucketLocation", "PutBucketLogging"],
    "sts": ["AssumeRole", "GetCallerIdentity", "AssumeRoleWithSAML", "GetSessionToken", "AssumeRoleWithWebIdentity"],
    "kms": ["Decrypt", "Encrypt", "GenerateDataKey", "DisableKey", "ScheduleKeyDeletion", "CreateKey", "DescribeKey"],
    "cloudtrail": ["DescribeTrails", "StopLogging", "DeleteTrail", "UpdateTrail", "StartLogging", "LookupEvents",
                   "PutEventSelectors"],
    "lambda": ["Invoke", "ListFunctions20150331", "UpdateFunctionCode20150331v2", "CreateFunction20150331",
               "AddPermission20150331v2", "GetFunction20150331v2"],
    "config": ["StopConfigurationRecorder", "DeleteDeliveryChannel", "PutConfigurationRecorder",
               "DescribeConfigRules"],
    "organizations": ["ListAccounts", "LeaveOrganization", "InviteAccountToOrganization", "CreateAccount",
                      "DescribeOrganization"],
    "secretsmanager": ["GetSecretValue", "CreateSecret", "DeleteSecret", "PutSecretValue", "ListSecrets"],
    "rds": ["DescribeDBInstances", "CreateDBSnapshot", "ModifyDBInstance", "DeleteDBInstance"],
    "logs": ["CreateLogStream", "PutLogEvents", "DeleteLogGroup", "DescribeLogGroups"],
    "guardduty": ["ListDetectors", "DeleteDetector", "GetFindings", "UpdateDetector"],
    "ssm": ["GetParameter", "GetParameters", "SendCommand", "StartSession", "PutParameter"],
    "dynamodb": ["DescribeTable", "CreateTable", "DeleteTable", "UpdateTable"],
    "ecr": ["GetAuthorizationToken", "BatchGetImage", "PutImage", "DescribeRepositories"],
    "eks": ["DescribeCluster", "ListClusters", "CreateCluster", "UpdateClusterConfig"],
    "route53": ["ChangeResourceRecordSets", "ListHostedZones"],
    "sns": ["Publish", "CreateTopic", "Subscribe"],
    "sqs": ["SendMessage", "ReceiveMessage", "CreateQueue", "DeleteQueue"],
    "cloudformation": ["CreateStack", "DescribeStacks", "DeleteStack", "UpdateStack"],
    "elasticloadbalancing": ["DescribeLoadBalancers", "ModifyListener"],
    "autoscaling": ["DescribeAutoScalingGroups", "UpdateAutoScalingGroup"],
    "monitoring": ["PutMetricAlarm", "DeleteAlarms", "DescribeAlarms"],
    "sso": ["ListAccountAssignments", "CreateAccountAssignment"],
}
REGIONS = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-northeast-1"]
ACCOUNTS = ["123456789012", "210987654321", "111122223333", "444455556666"]
USERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "deploy-bot",
         "terraform", "ci-runner", "backup-svc"]
ROLES = ["OrganizationAccountAccessRole", "AWSReservedSSO_AdministratorAccess_0a1b2c", "eks-node-role",
         "github-actions-deploy", "lambda-exec-role", "ReadOnlyAuditor", "BreakGlass"]
AGENTS = ["aws-cli/2.13.5 Python/3.11.4 Linux/5.15.0 exe/x86_64.ubuntu.22 prompt/off command/{svc}.{op}",
          "Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.6 cfg/retry-mode#legacy Botocore/1.34.11",
          "aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 api/{svc}#1.0",
          "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
          "console.amazonaws.com", "Terraform/1.6.6 (+https://www.terraform.io) terraform-provider-aws/5.31.0",
          "aws-internal/3 aws-sdk-java/1.12.595 Linux/5.10 OpenJDK_64-Bit_Server_VM/25.392-b08 java/1.8.0_392"]
ERRORS = [("AccessDenied", "User: {arn} is not authorized to perform: {svc}:{op} on resource: *"),
          ("Client.UnauthorizedOperation", "You are not authorized to perform this operation."),
          ("ThrottlingException", "Rate exceeded"), ("NoSuchBucket", "The specified bucket does not exist"),
          ("ValidationException", "1 validation error detected"), ("ResourceNotFoundException", "Not found")]
READ_PREFIXES = ("Describe", "List", "Get", "Head", "Lookup")


def _ip(r: random.Random) -> str:
    x = r.random()
    if x < 0.12:
        return f"2001:db8:{r.randrange(65536):x}:{r.randrange(65536):x}::{r.randrange(65536):x}"
    if x < 0.22:
        return r.choice(["ec2.amazonaws.com", "lambda.amazonaws.com", "cloudformation.amazonaws.com", "AWS Internal"])
    return f"{r.choice([3, 18, 34, 52, 54, 198, 203, 185, 45])}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"


def _identity(r: random.Random, acct: str, t: dt.datetime) -> dict[str, Any]:
    x = r.random()
    if x < 0.45:
        role = r.choice(ROLES)
        sess = r.choice(USERS)
        rid = f"AROA{r.randrange(10**15):015d}"
        return {"type": "AssumedRole", "principalId": f"{rid}:{sess}",
                "arn": f"arn:aws:sts::{acct}:assumed-role/{role}/{sess}", "accountId": acct,
                "accessKeyId": f"ASIA{r.randrange(10**15):015d}X",
                "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": rid,
                                                     "arn": f"arn:aws:iam::{acct}:role/{role}", "accountId": acct,
                                                     "userName": role},
                                   "webIdFederationData": {},
                                   "attributes": {"creationDate": (t - dt.timedelta(minutes=r.randrange(600))).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                                  "mfaAuthenticated": r.choice(["true", "false"])}}}
    if x < 0.85:
        user = r.choice(USERS)
        return {"type": "IAMUser", "principalId": f"AIDA{r.randrange(10**15):015d}", "arn": f"arn:aws:iam::{acct}:user/{user}",
                "accountId": acct, "accessKeyId": f"AKIA{r.randrange(10**15):015d}Q", "userName": user}
    if x < 0.97:
        svc = r.choice(["ec2.amazonaws.com", "lambda.amazonaws.com", "cloudtrail.amazonaws.com", "config.amazonaws.com"])
        return {"type": "AWSService", "invokedBy": svc}
    return {"type": "Root", "principalId": acct, "arn": f"arn:aws:iam::{acct}:root", "accountId": acct,
            "accessKeyId": f"ASIA{r.randrange(10**15):015d}R"}


def _params(r: random.Random, svc: str, op: str, acct: str, region: str) -> tuple[Any, Any, list[Any] | None]:
    if op.startswith(READ_PREFIXES) and r.random() < 0.4:
        return None, None, None
    name = f"{r.choice(['prod', 'staging', 'dev'])}-{r.choice(['api', 'web', 'data', 'logs', 'ml'])}-{r.randrange(1000)}"
    req: dict[str, Any] = {"name": name}
    res: dict[str, Any] | None = None
    resources = None
    if svc == "ec2":
        req = {"instancesSet": {"items": [{"instanceId": f"i-{r.randrange(16**17):017x}"} for _ in range(r.randrange(1, 4))]},
               "filterSet": {"items": [{"name": "tag:env", "valueSet": {"items": [{"value": r.choice(['prod', 'dev'])}]}}]}}
        if op == "AuthorizeSecurityGroupIngress":
            req = {"groupId": f"sg-{r.randrange(16**17):017x}", "ipPermissions": {"items": [
                {"ipProtocol": "tcp", "fromPort": p, "toPort": p, "ipRanges": {"items": [{"cidrIp": r.choice(["0.0.0.0/0", "10.0.0.0/8"])}]}}
                for p in r.sample([22, 80, 443, 3389, 5432], r.randrange(1, 3))]}}
        res = {"requestId": f"{r.randrange(16**8):08x}-aaaa-bbbb-cccc-{r.randrange(16**12):012x}", "_return": True}
    elif svc == "s3":
        bucket = f"{name}-bucket"
        req = {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com", "key": f"data/{r.randrange(10**6)}.json"}
        if "Policy" in op:
            req["bucketPolicy"] = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                                   "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}
        resources = [{"accountId": acct, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
    elif svc == "iam":
        req = {"userName": r.choice(USERS), "policyArn": r.choice(["arn:aws:iam::aws:policy/AdministratorAccess",
                                                                     "arn:aws:iam::aws:policy/ReadOnlyAccess"])}
        if op.startswith("Create"):
            res = {"user": {"userName": req["userName"], "userId": f"AIDA{r.randrange(10**15):015d}",
                            "arn": f"arn:aws:iam::{acct}:user/{req['userName']}", "createDate": "Jan 1, 2024 12:00:00 AM"}}
    elif svc == "sts" and op.startswith("AssumeRole"):
        role = r.choice(ROLES)
        req = {"roleArn": f"arn:aws:iam::{acct}:role/{role}", "roleSessionName": r.choice(USERS), "durationSeconds": 3600}
        res = {"credentials": {"accessKeyId": f"ASIA{r.randrange(10**15):015d}Z", "expiration": "Jan 1, 2024 1:00:00 PM",
                               "sessionToken": "IQoJb3JpZ2luX2VjE" + "x" * r.randrange(40, 120)},
               "assumedRoleUser": {"assumedRoleId": f"AROA{r.randrange(10**15):015d}:{req['roleSessionName']}",
                                   "arn": f"arn:aws:sts::{acct}:assumed-role/{role}/{req['roleSessionName']}"}}
        resources = [{"accountId": acct, "type": "AWS::IAM::Role", "ARN": req["roleArn"]}]
    elif svc == "kms":
        key = f"arn:aws:kms:{region}:{acct}:key/{r.randrange(16**8):08x}-1111-2222-3333-{r.randrange(16**12):012x}"
        req = {"keyId": key, "encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": {"aws:lambda:FunctionArn": f"arn:aws:lambda:{region}:{acct}:function:{name}"}}
        resources = [{"accountId": acct, "type": "AWS::KMS::Key", "ARN": key}]
    return req, res, resources


def records(n: int, seed: int = 7, start: dt.datetime | None = None) -> Iterator[dict[str, Any]]:
    """Yield ``n`` CloudTrail records (see module docstring)."""
    r = random.Random(seed)
    t = start or dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    services = list(SERVICES)
    weights = [12, 8, 14, 9, 6, 2, 5, 1, 1, 3, 2, 4, 1, 4, 3, 3, 2, 1, 2, 3, 2, 1, 1, 1, 1]
    for i in range(n):
        t += dt.timedelta(milliseconds=r.randrange(1, 400))
        svc = r.choices(services, weights)[0]
        op = r.choice(SERVICES[svc])
        acct = r.choice(ACCOUNTS)
        region = r.choice(REGIONS)
        ident = _identity(r, acct, t)
        req, res, resources = _params(r, svc, op, acct, region)
        rec: dict[str, Any] = {
            "eventVersion": r.choice(["1.08", "1.09", "1.10"]),
            "userIdentity": ident,
            "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": f"{svc}.amazonaws.com",
            "eventName": op,
            "awsRegion": region,
            "sourceIPAddress": ident.get("invokedBy") or _ip(r),
            "userAgent": r.choice(AGENTS).format(svc=svc, op=op.lower()),
            "requestParameters": req,
            "responseElements": res,
            "requestID": f"{r.randrange(16**8):08x}-{r.randrange(16**4):04x}-4{r.randrange(16**3):03x}-a{r.randrange(16**3):03x}-{r.randrange(16**12):012x}",
            "eventID": f"{r.randrange(16**8):08x}-{r.randrange(16**4):04x}-4{r.randrange(16**3):03x}-b{r.randrange(16**3):03x}-{r.randrange(16**12):012x}",
            "readOnly": op.startswith(READ_PREFIXES),
            "eventType": "AwsApiCall",
            "managementEvent": svc not in ("s3",) or "Bucket" in op,
            "recipientAccountId": acct,
            "eventCategory": "Management",
            "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                           "clientProvidedHostHeader": f"{svc}.{region}.amazonaws.com"},
        }
        if resources:
            rec["resources"] = resources
        if r.random() < 0.06:
            code, msg = r.choice(ERRORS)
            rec["errorCode"] = code
            rec["errorMessage"] = msg.format(arn=ident.get("arn", "unknown"), svc=svc, op=op)
            rec["responseElements"] = None
        if i % 97 == 0:
            ok = r.random() < 0.85
            rec.update({"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "eventType": "AwsConsoleSignIn",
                        "requestParameters": None, "responseElements": {"ConsoleLogin": "Success" if ok else "Failure"},
                        "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home",
                                                "MobileVersion": "No", "MFAUsed": r.choice(["Yes", "No"])},
                        "userAgent": AGENTS[3]})
            if not ok:
                rec["errorMessage"] = "Failed authentication"
        yield rec


def write_corpus(out: Path, size_mb: float, seed: int = 7, per_file: int = 2000) -> dict[str, Any]:
    """Write ~size_mb of uncompressed JSON as AWS-layout .json.gz files; returns stats."""
    out = Path(out)
    target = int(size_mb * 1024 * 1024)
    written = files = events = 0
    gen = records(10**12, seed)
    r = random.Random(seed + 1)
    while written < target:
        batch = [next(gen) for _ in range(per_file)]
        first = dt.datetime.strptime(batch[0]["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        acct = batch[0]["recipientAccountId"]
        region = batch[0]["awsRegion"]
        d = out / "AWSLogs" / acct / "CloudTrail" / region / f"{first:%Y}" / f"{first:%m}" / f"{first:%d}"
        d.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"Records": batch}, separators=(",", ":")).encode()
        name = f"{acct}_CloudTrail_{region}_{first:%Y%m%dT%H%MZ}_{r.randrange(16**16):016x}.json.gz"
        (d / name).write_bytes(gzip.compress(body, compresslevel=6))
        written += len(body)
        files += 1
        events += len(batch)
    return {"files": files, "events": events, "bytes": written}


def main() -> None:
    """CLI."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--size-mb", type=float, default=200)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    print(json.dumps(write_corpus(Path(a.out), a.size_mb, a.seed)))


if __name__ == "__main__":
    main()
