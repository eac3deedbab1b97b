"""Read ``template.yaml`` (cfn-lint's CloudFormation YAML loader), create its resources in the local cloud
and describe its functions and event sources with every ``!Ref`` / ``!GetAtt`` / ``!Sub`` resolved."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sevalocal.aws import REGION, infra_client

ACCOUNT = "123456789012"


@dataclass
class StreamSource:
    name: str
    stream_arn: str
    starting_position: str = "LATEST"
    batch_size: int = 100
    filters: list[str] = field(default_factory=list)  # EventBridge patterns (JSON)
    bisect: bool = False
    max_retries: int = -1  # -1: until the record expires
    report_failures: bool = False
    on_failure_arn: str | None = None
    enabled: bool = True
    parallelization: int = 1  # ParallelizationFactor: concurrent batches per shard (order kept per key)
    batching_window_s: float = 0.0


@dataclass
class QueueSource:
    """An SQS event source mapping."""

    name: str
    queue_arn: str
    batch_size: int = 10
    batching_window_s: float = 0.0
    max_concurrency: int = 1000  # ScalingConfig.MaximumConcurrency (AWS: 2-1000; unset: scales freely)
    report_failures: bool = False
    filters: list[str] = field(default_factory=list)
    enabled: bool = True


@dataclass
class HttpRoute:
    method: str
    path: str  # with {params}
    function: str  # logical id
    authorizer: str | None  # None: no authorizer


@dataclass
class HttpApiSpec:
    logical_id: str
    api_id: str
    authorizers: dict[str, dict[str, Any]]  # name -> {issuer, audience}
    routes: list[HttpRoute] = field(default_factory=list)
    default_authorizer: str | None = None  # Auth.DefaultAuthorizer: routes without an Auth of their own


@dataclass
class PipeSpec:
    """An EventBridge Pipe: a DynamoDB stream source, filters, an event-bus target."""

    name: str
    source_arn: str
    target_arn: str
    starting_position: str = "LATEST"
    batch_size: int = 10
    parallelization: int = 1  # ParallelizationFactor: concurrent batches per shard (order kept per partition key)
    filters: list[str] = field(default_factory=list)
    max_retries: int = -1
    dead_letter_arn: str | None = None
    source: str = "Pipe"
    detail_type: str = "Event"


@dataclass
class ScheduleSource:
    name: str
    period_s: float
    enabled: bool = True


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    handler: str
    code_uri: str
    env: dict[str, str]
    timeout_s: float
    memory_mb: int
    schedules: list[ScheduleSource] = field(default_factory=list)
    streams: list[StreamSource] = field(default_factory=list)
    queues: list[QueueSource] = field(default_factory=list)
    http_routes: list[HttpRoute] = field(default_factory=list)
    http_api_ids: list[str] = field(default_factory=list)
    async_max_retries: int = 2
    async_on_failure_arn: str | None = None
    reserved_concurrency: int | None = None


@dataclass
class Deployment:
    stack: str
    physical: dict[str, str]  # logical id -> Ref value
    attributes: dict[tuple[str, str], str]
    functions: list[FunctionSpec]
    queues: dict[str, str]  # logical id -> url
    topics: dict[str, str]  # logical id -> arn
    tables: dict[str, str]  # logical id -> name
    secrets: dict[str, str]  # logical id -> arn
    parameters: dict[str, str]
    pipes: list[PipeSpec] = field(default_factory=list)
    buses: dict[str, str] = field(default_factory=dict)  # logical id -> name
    user_pools: dict[str, str] = field(default_factory=dict)  # logical id -> pool id
    user_pool_clients: dict[str, str] = field(default_factory=dict)  # logical id -> client id
    http_apis: dict[str, HttpApiSpec] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)  # logical id -> bucket name
    distributions: dict[str, dict[str, Any]] = field(default_factory=dict)  # logical id -> DistributionConfig


def load_template(path: str | Path) -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml

    return json.loads(json.dumps(cfn_yaml.load(str(path))))  # plain dicts/str, not cfn-lint node types


_RATE = re.compile(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)")


def rate_seconds(expression: str) -> float:
    m = _RATE.fullmatch(expression.strip())
    if not m:
        raise ValueError(f"only rate() schedules are emulated, got {expression!r}")
    unit = {"minute": 60, "hour": 3600, "day": 86400}[m.group(2).rstrip("s")]
    return int(m.group(1)) * unit


class Resolver:
    def __init__(self, stack: str, parameters: dict[str, str], conditions: dict[str, Any] | None = None):
        self.stack = stack
        self.parameters = parameters
        self.physical: dict[str, str] = {}
        self.attributes: dict[tuple[str, str], str] = {}
        self.conditions = conditions or {}

    def condition(self, name: str) -> bool:
        return self._truth(self.conditions[name])

    def _truth(self, value: Any) -> bool:
        ((key, arg),) = value.items()
        if key == "Fn::Equals":
            left, right = (self.resolve(v) for v in arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self._truth(arg[0])
        if key == "Fn::And":
            return all(self._truth(v) for v in arg)
        if key == "Fn::Or":
            return any(self._truth(v) for v in arg)
        if key == "Condition":
            return self.condition(arg)
        raise ValueError(f"condition function {key} is not emulated")

    def pseudo(self, name: str) -> str | None:
        return {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::StackName": self.stack,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }.get(name)

    def ref(self, name: str) -> str:
        value = self.pseudo(name) or self.parameters.get(name, self.physical.get(name))
        if value is None:
            raise KeyError(f"!Ref {name}: not a parameter or a created resource")
        return value

    def getatt(self, logical: str, attribute: str) -> str:
        try:
            return self.attributes[(logical, attribute)]
        except KeyError:
            raise KeyError(f"!GetAtt {logical}.{attribute}: not emulated") from None

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.getatt(logical, attribute)
            if key == "Fn::Sub":
                template, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
                return re.sub(r"\$\{([^}!]+)\}", lambda m: self._sub(m.group(1), extra), template)
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(str(i) for i in self.resolve(items))
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(self.resolve(index))]
            if key == "Fn::If":
                name, when_true, when_false = arg
                return self.resolve(when_true if self.condition(name) else when_false)
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub(self, name: str, extra: dict[str, Any]) -> str:
        if name in extra:
            return str(extra[name])
        if "." in name:
            return self.getatt(*name.split(".", 1))
        return self.ref(name)


def deploy(
    template_path: str | Path,
    endpoint: str,
    stack: str = "seva-local",
    parameter_overrides: dict[str, str] | None = None,
) -> Deployment:
    template_path = Path(template_path)
    tpl = load_template(template_path)
    params = {k: str(v.get("Default", "")) for k, v in (tpl.get("Parameters") or {}).items()}
    params.update(parameter_overrides or {})
    r = Resolver(stack, params, tpl.get("Conditions") or {})
    resources: dict[str, Any] = tpl.get("Resources") or {}
    services = (
        "dynamodb",
        "sqs",
        "sns",
        "secretsmanager",
        "events",
        "pipes",
        "cognito-idp",
        "apigatewayv2",
        "cloudwatch",
        "s3",
        "logs",
    )
    clients = {s: infra_client(s, endpoint) for s in services}
    out = Deployment(stack, r.physical, r.attributes, [], {}, {}, {}, {}, params)
    for logical, res in resources.items():
        if res.get("Type") == "AWS::Serverless::Function":
            r.physical[logical] = f"{stack}-{logical}"
            r.attributes[(logical, "Arn")] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{stack}-{logical}"
    # Resources in dependency order: one whose properties name a resource not created yet waits a round.
    waiting = [
        k
        for k, v in resources.items()
        if v.get("Type") != "AWS::Serverless::Function" and (not v.get("Condition") or r.condition(v["Condition"]))
    ]
    while waiting:
        deferred = []
        for logical in waiting:
            res = resources[logical]
            try:
                props = r.resolve(res.get("Properties") or {})
            except KeyError:
                deferred.append(logical)
                continue
            _create(logical, res.get("Type"), props, r, clients, out, stack)
        if len(deferred) == len(waiting):
            raise KeyError(f"unresolvable references in {deferred}")
        waiting = deferred
    globals_fn = (tpl.get("Globals") or {}).get("Function") or {}
    for logical, res in resources.items():
        if res.get("Type") == "AWS::Serverless::Function":
            out.functions.append(_function(logical, res.get("Properties") or {}, globals_fn, r, template_path.parent))
    by_id = {api.api_id: api for api in out.http_apis.values()}
    for spec in out.functions:
        for route, api_id in zip(spec.http_routes, spec.http_api_ids, strict=True):
            if route.authorizer == _API_DEFAULT:
                route.authorizer = by_id[api_id].default_authorizer
            by_id[api_id].routes.append(route)
    return out


def _create(
    logical: str,
    kind: str | None,
    props: dict[str, Any],
    r: Resolver,
    clients: dict[str, Any],
    out: Deployment,
    stack: str,
) -> None:
    """Create one resource in the local cloud (one branch per resource type)."""
    ddb, sqs, sns, sm = clients["dynamodb"], clients["sqs"], clients["sns"], clients["secretsmanager"]
    if kind == "AWS::DynamoDB::Table":
        name = props.get("TableName") or f"{stack}-{logical}"
        args: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        desc = ddb.create_table(**args)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        r.physical[logical] = name
        r.attributes[(logical, "Arn")] = desc["TableArn"]
        if desc.get("LatestStreamArn"):
            r.attributes[(logical, "StreamArn")] = desc["LatestStreamArn"]
        out.tables[logical] = name
    elif kind == "AWS::SQS::Queue":
        name = props.get("QueueName") or f"{stack}-{logical}"
        attributes = {}
        if props.get("VisibilityTimeout") is not None:
            attributes["VisibilityTimeout"] = str(props["VisibilityTimeout"])
        if props.get("RedrivePolicy"):
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        tags = {str(t["Key"]): str(t["Value"]) for t in props.get("Tags") or []}
        url = sqs.create_queue(QueueName=name, Attributes=attributes, tags=tags)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        r.physical[logical], r.attributes[(logical, "Arn")] = url, arn
        r.attributes[(logical, "QueueName")] = name
        out.queues[logical] = url
    elif kind == "AWS::SQS::QueuePolicy":
        for url in props.get("Queues") or []:
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])})
        r.physical[logical] = f"{stack}-{logical}"
    elif kind == "AWS::SNS::Topic":
        name = props.get("TopicName") or f"{stack}-{logical}"
        arn = sns.create_topic(Name=name)["TopicArn"]
        r.physical[logical], r.attributes[(logical, "TopicName")] = arn, name
        r.attributes[(logical, "TopicArn")] = arn
        out.topics[logical] = arn
    elif kind == "AWS::SecretsManager::Secret":
        name = props.get("Name") or f"{stack}-{logical}"
        value = props.get("SecretString")
        gen = props.get("GenerateSecretString")
        if value is None and gen:
            base = json.loads(gen.get("SecretStringTemplate") or "{}")
            base[gen.get("GenerateStringKey", "password")] = secrets.token_urlsafe(16)
            value = json.dumps(base)
        arn = sm.create_secret(Name=name, SecretString=value or "{}")["ARN"]
        r.physical[logical] = arn
        out.secrets[logical] = arn
    elif kind == "AWS::Events::EventBus":
        name = props.get("Name") or f"{stack}-{logical}"
        arn = clients["events"].create_event_bus(Name=name)["EventBusArn"]
        r.physical[logical], r.attributes[(logical, "Arn")], r.attributes[(logical, "Name")] = name, arn, name
        out.buses[logical] = name
    elif kind == "AWS::Events::Rule":
        events = clients["events"]
        name = props.get("Name") or f"{stack}-{logical}"[:64]
        bus = props.get("EventBusName", "default")
        arn = events.put_rule(
            Name=name,
            EventBusName=bus,
            EventPattern=json.dumps(props["EventPattern"]),
            State=props.get("State", "ENABLED"),
        )["RuleArn"]
        targets = [{k: v for k, v in t.items() if k in ("Id", "Arn", "Input", "InputPath")} for t in props["Targets"]]
        events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        r.physical[logical], r.attributes[(logical, "Arn")] = name, arn
    elif kind == "AWS::IAM::Role":
        name = props.get("RoleName") or f"{stack}-{logical}"
        r.physical[logical] = name
        r.attributes[(logical, "Arn")] = f"arn:aws:iam::{ACCOUNT}:role/{name}"
    elif kind == "AWS::Pipes::Pipe":
        name = props.get("Name") or f"{stack}-{logical}"
        source_params = props.get("SourceParameters") or {}
        stream = source_params.get("DynamoDBStreamParameters") or {}
        target = (props.get("TargetParameters") or {}).get("EventBridgeEventBusParameters") or {}
        if not stream or ":event-bus/" not in props["Target"]:
            raise ValueError(f"{logical}: only DynamoDB-stream pipes to an event bus are emulated")
        # moto keeps the pipe (describe/list); the emulator supplies what it does at run time
        clients["pipes"].create_pipe(
            Name=name,
            RoleArn=props["RoleArn"],
            Source=props["Source"],
            Target=props["Target"],
            SourceParameters=source_params,
            TargetParameters=props.get("TargetParameters") or {},
        )
        out.pipes.append(
            PipeSpec(
                name=name,
                source_arn=props["Source"],
                target_arn=props["Target"],
                starting_position=stream.get("StartingPosition", "LATEST"),
                batch_size=int(stream.get("BatchSize", 10)),
                parallelization=int(stream.get("ParallelizationFactor", 1)),
                filters=[f["Pattern"] for f in (source_params.get("FilterCriteria") or {}).get("Filters") or []],
                max_retries=int(stream.get("MaximumRetryAttempts", -1)),
                dead_letter_arn=(stream.get("DeadLetterConfig") or {}).get("Arn"),
                source=target.get("Source", "Pipe"),
                detail_type=target.get("DetailType", "Event"),
            )
        )
        r.physical[logical] = name
        r.attributes[(logical, "Arn")] = f"arn:aws:pipes:{REGION}:{ACCOUNT}:pipe/{name}"
    elif kind == "AWS::Cognito::UserPool":
        cognito = clients["cognito-idp"]
        args = {"PoolName": props.get("UserPoolName") or f"{stack}-{logical}"}
        if props.get("Schema"):
            args["Schema"] = props["Schema"]
        if props.get("Policies"):
            args["Policies"] = props["Policies"]
        pool = cognito.create_user_pool(**args)["UserPool"]
        r.physical[logical], r.attributes[(logical, "Arn")] = pool["Id"], pool["Arn"]
        r.attributes[(logical, "ProviderName")] = f"cognito-idp.{REGION}.amazonaws.com/{pool['Id']}"
        out.user_pools[logical] = pool["Id"]
    elif kind == "AWS::Cognito::UserPoolClient":
        client = clients["cognito-idp"].create_user_pool_client(
            UserPoolId=props["UserPoolId"],
            ClientName=props.get("ClientName") or logical,
            GenerateSecret=bool(props.get("GenerateSecret", False)),
            ExplicitAuthFlows=props.get("ExplicitAuthFlows") or [],
        )["UserPoolClient"]
        r.physical[logical] = client["ClientId"]
        out.user_pool_clients[logical] = client["ClientId"]
    elif kind == "AWS::Cognito::UserPoolGroup":
        clients["cognito-idp"].create_group(
            UserPoolId=props["UserPoolId"], GroupName=props["GroupName"], Description=props.get("Description", "")
        )
        r.physical[logical] = props["GroupName"]
    elif kind == "AWS::Serverless::HttpApi":
        api = clients["apigatewayv2"].create_api(Name=f"{stack}-{logical}", ProtocolType="HTTP")
        authorizers = {}
        for name, auth in ((props.get("Auth") or {}).get("Authorizers") or {}).items():
            jwt = auth.get("JwtConfiguration") or {}
            clients["apigatewayv2"].create_authorizer(
                ApiId=api["ApiId"],
                AuthorizerType="JWT",
                Name=name,
                IdentitySource=[auth.get("IdentitySource", "$request.header.Authorization")],
                JwtConfiguration={"Issuer": jwt.get("issuer"), "Audience": jwt.get("audience") or []},
            )
            authorizers[name] = {"issuer": jwt.get("issuer"), "audience": list(jwt.get("audience") or [])}
        default = (props.get("Auth") or {}).get("DefaultAuthorizer")
        out.http_apis[logical] = HttpApiSpec(logical, api["ApiId"], authorizers, default_authorizer=default)
        r.physical[logical] = api["ApiId"]
    elif kind == "AWS::S3::Bucket":
        name = (props.get("BucketName") or f"{stack}-{logical}").lower()[:63]
        clients["s3"].create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        r.physical[logical] = name
        r.attributes[(logical, "Arn")] = f"arn:aws:s3:::{name}"
        r.attributes[(logical, "DomainName")] = f"{name}.s3.amazonaws.com"
        r.attributes[(logical, "RegionalDomainName")] = f"{name}.s3.{REGION}.amazonaws.com"
        out.buckets[logical] = name
    elif kind == "AWS::S3::BucketPolicy":
        r.physical[logical] = f"{stack}-{logical}"  # who may read the bucket: CloudFront (the local front reads it)
    elif kind == "AWS::CloudFront::OriginAccessControl":
        r.physical[logical] = r.attributes[(logical, "Id")] = f"E{secrets.token_hex(6).upper()}"
    elif kind == "AWS::CloudFront::Distribution":
        # The local cloud's HTTP server plays the distribution (sevalocal.front): its behaviours are kept here
        distribution_id = f"E{secrets.token_hex(6).upper()}"
        r.physical[logical] = r.attributes[(logical, "Id")] = distribution_id
        r.attributes[(logical, "DomainName")] = f"{distribution_id.lower()}.cloudfront.net"
        out.distributions[logical] = props.get("DistributionConfig") or {}
    elif kind == "AWS::Logs::LogGroup":
        name = props.get("LogGroupName") or f"{stack}-{logical}"
        clients["logs"].create_log_group(logGroupName=name)
        if props.get("RetentionInDays"):
            clients["logs"].put_retention_policy(logGroupName=name, retentionInDays=int(props["RetentionInDays"]))
        r.physical[logical] = name
        r.attributes[(logical, "Arn")] = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}:*"
    elif kind == "AWS::CloudWatch::Alarm":
        # Kept in moto's CloudWatch (describe_alarms shows them); nothing evaluates them locally
        args = {k: v for k, v in props.items() if k in _ALARM_ARGS}
        args["AlarmName"] = name = props.get("AlarmName") or f"{stack}-{logical}"
        for key in ("Threshold",):
            if key in args:
                args[key] = float(args[key])
        for key in ("Period", "EvaluationPeriods", "DatapointsToAlarm"):
            if key in args:
                args[key] = int(args[key])
        clients["cloudwatch"].put_metric_alarm(**args)
        r.physical[logical] = name
        r.attributes[(logical, "Arn")] = f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"
    elif kind == "AWS::CloudWatch::Dashboard":
        name = props.get("DashboardName") or f"{stack}-{logical}"
        json.loads(props["DashboardBody"])  # the body must be JSON once every ${...} is resolved
        clients["cloudwatch"].put_dashboard(DashboardName=name, DashboardBody=props["DashboardBody"])
        r.physical[logical] = name
    elif kind == "AWS::SNS::Subscription":
        arn = sns.subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"])
        r.physical[logical] = arn.get("SubscriptionArn", f"{stack}-{logical}")
    elif kind in NOT_EMULATED:
        r.physical[logical] = f"{stack}-{logical}"  # accepted, with no effect locally (NOT_EMULATED says why)
    else:
        raise ValueError(f"{logical}: resource type {kind} is not emulated")


_API_DEFAULT = "$default"  # a route with no Authorizer of its own: the API's DefaultAuthorizer, if any

_ALARM_ARGS = frozenset(
    {
        "AlarmName",
        "AlarmDescription",
        "ActionsEnabled",
        "OKActions",
        "AlarmActions",
        "InsufficientDataActions",
        "MetricName",
        "Namespace",
        "Statistic",
        "ExtendedStatistic",
        "Dimensions",
        "Period",
        "Unit",
        "EvaluationPeriods",
        "DatapointsToAlarm",
        "Threshold",
        "ComparisonOperator",
        "TreatMissingData",
        "Metrics",
    }
)
# Resource types the local cloud accepts without emulating them (the README's local-cloud section lists them)
NOT_EMULATED = {
    "AWS::SMSVOICE::ProtectConfiguration": "moto has no AWS End User Messaging SMS; the fake SNS sends no real SMS",
    "AWS::IAM::Policy": "the local cloud does not enforce IAM (tests/policy checks the template instead)",
}


def _function(logical: str, props: dict[str, Any], glob: dict[str, Any], r: Resolver, root: Path) -> FunctionSpec:
    def prop(name: str, default: Any = None) -> Any:
        return props.get(name, glob.get(name, default))

    env = dict(r.resolve((glob.get("Environment") or {}).get("Variables") or {}))
    env.update(r.resolve((props.get("Environment") or {}).get("Variables") or {}))
    spec = FunctionSpec(
        logical_id=logical,
        name=r.physical[logical],
        handler=prop("Handler"),
        code_uri=str((root / prop("CodeUri", ".")).resolve()),
        env={k: str(v) for k, v in env.items()},
        timeout_s=float(r.resolve(prop("Timeout", 3))),
        memory_mb=int(r.resolve(prop("MemorySize", 128))),
    )
    if props.get("ReservedConcurrentExecutions") is not None:
        spec.reserved_concurrency = int(r.resolve(props["ReservedConcurrentExecutions"]))
    invoke_cfg = r.resolve(props.get("EventInvokeConfig") or {})
    spec.async_max_retries = int(invoke_cfg.get("MaximumRetryAttempts", 2))
    spec.async_on_failure_arn = ((invoke_cfg.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    for ev_name, ev in (props.get("Events") or {}).items():
        ev_props = r.resolve(ev.get("Properties") or {})
        if ev.get("Type") == "Schedule":
            spec.schedules.append(
                ScheduleSource(ev_name, rate_seconds(ev_props["Schedule"]), bool(ev_props.get("Enabled", True)))
            )
        elif ev.get("Type") == "DynamoDB":
            filters = [f["Pattern"] for f in (ev_props.get("FilterCriteria") or {}).get("Filters") or []]
            types = ev_props.get("FunctionResponseTypes") or []
            spec.streams.append(
                StreamSource(
                    name=ev_name,
                    stream_arn=ev_props["Stream"],
                    starting_position=ev_props.get("StartingPosition", "LATEST"),
                    batch_size=int(ev_props.get("BatchSize", 100)),
                    filters=filters,
                    bisect=bool(ev_props.get("BisectBatchOnFunctionError", False)),
                    max_retries=int(ev_props.get("MaximumRetryAttempts", -1)),
                    report_failures="ReportBatchItemFailures" in types,
                    on_failure_arn=((ev_props.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
                        "Destination"
                    ),
                    enabled=bool(ev_props.get("Enabled", True)),
                    parallelization=int(ev_props.get("ParallelizationFactor", 1)),
                    batching_window_s=float(ev_props.get("MaximumBatchingWindowInSeconds", 0)),
                )
            )
        elif ev.get("Type") == "HttpApi":
            auth = (ev_props.get("Auth") or {}).get("Authorizer") or _API_DEFAULT
            spec.http_routes.append(
                HttpRoute(
                    method=str(ev_props.get("Method", "ANY")).upper(),
                    path=ev_props["Path"],
                    function=logical,
                    authorizer=None if auth in (None, "NONE") else auth,
                )
            )
            spec.http_api_ids.append(ev_props.get("ApiId"))
        elif ev.get("Type") == "SQS":
            scaling = ev_props.get("ScalingConfig") or {}
            spec.queues.append(
                QueueSource(
                    name=ev_name,
                    queue_arn=ev_props["Queue"],
                    batch_size=int(ev_props.get("BatchSize", 10)),
                    batching_window_s=float(ev_props.get("MaximumBatchingWindowInSeconds", 0)),
                    max_concurrency=int(scaling.get("MaximumConcurrency", 1000)),
                    report_failures="ReportBatchItemFailures" in (ev_props.get("FunctionResponseTypes") or []),
                    filters=[f["Pattern"] for f in (ev_props.get("FilterCriteria") or {}).get("Filters") or []],
                    enabled=bool(ev_props.get("Enabled", True)),
                )
            )
        else:
            raise ValueError(f"{logical}.{ev_name}: event type {ev.get('Type')} is not emulated")
    return spec
