"""Starts moto's server (5.2.1) with the few patches the apply test needs.

Usage: python3 moto_launcher.py -H 127.0.0.1 -p PORT
Environment:
  WEBHOOKQ_LAMBDA_ROUTES  path of a JSON file {"<function name or ARN>": "<invoke URL>"},
                          read on every Invoke (the test writes it once the
                          emulators run); functions not listed keep moto's own
                          behaviour.

Each patch is for a documented gap of moto 5.2.1 (docs/testing.md), and only
the ones the test exercises:

1. StartSyncExecution is not implemented. Added: it runs the stored definition
   through moto's own Step Functions executor (the LocalStack-derived
   interpreter's SyncExecution, which blocks until the execution ends) and
   answers like AWS, with an express execution ARN. Nothing is deep-copied,
   which is what makes a second StartExecution in one region fail in 5.2.1.
2. CreateStateMachine ignores "type" and DescribeStateMachine reports STANDARD.
   Kept: the requested type is stored and reported, and the executor is told
   the machine is EXPRESS.
3. ValidateStateMachineDefinition is not implemented, and the AWS provider
   (5.100) calls it before creating a state machine. Added: moto's own ASL
   parser decides OK / FAIL.
4. ListStateMachineVersions is not implemented; the provider calls it
   after creating a state machine (and retries until it times out). Added:
   the versions moto keeps (none unless published).
5. SQS drops RedriveAllowPolicy (it is accepted and never returned), so the
   AWS provider would wait for it forever. Kept and returned. And moto returns
   RedrivePolicy as spaced JSON where AWS returns it compact, which makes a
   plan after apply show a whitespace-only update; returned compact.
6. Lambda Invoke without Docker only echoes. For the functions listed in
   WEBHOOKQ_LAMBDA_ROUTES the payload is posted to the listed URL (an
   aws-lambda-rie instance running the real bootstrap) and its answer returned;
   an answer carrying errorType is a function error ("Unhandled"), as Lambda
   reports a Go handler's error. One emulator runs one invocation at a time
   (a second one arriving meanwhile crashes it: a nil dereference in its
   rapidcore Server.Invoke), where Lambda would start another instance, so
   the invocations of one function are queued, one after another.
7. ExportApi (API Gateway v2) is not implemented, and the module's
   aws_apigatewayv2_export data source calls it to prove the existing API's
   stage exists. Added: NotFoundException for an unknown API or stage, like
   AWS, else the API's routes as OpenAPI 3.0 (moto keeps no deployments, so
   a stage exports the API as it is).
8. IAM authorisation (on once the test posts /moto-api/reset-auth) evaluates
   every policy statement against Resource "*" except for SQS, IAM and STS
   requests, so a statement naming its resources never matches. The launcher
   gives moto the ARN AWS evaluates for each action the pipeline's roles call:
   the state machine (StartSyncExecution), the function (Invoke), the SSM
   parameter, the secret, the SNS topic, the log stream, the KMS key.
9. moto names an action by its API operation; IAM names Lambda's Invoke
   "lambda:InvokeFunction". The launcher renames it before evaluation.
10. moto's Step Functions executor calls Lambda with fixed dummy keys. Step
   Functions calls it with the state machine's role: the launcher assumes the
   machine's role (as the service does, without a caller) and the executor's
   Lambda client signs each task's call with it, so the role's
   lambda:InvokeFunction is what allows or denies the Deliver and Notify
   tasks.
11. moto's SQS event source mapping receives and invokes inline, inside
   SendMessage, without message attributes, receive counts or batch item
   failures (docs/testing.md). The launcher turns that off: the mapping stays
   as applied (enabled) and the test polls in Lambda's place while it is
   enabled.
12. UpdateStage (API Gateway v2) is not implemented. Added for the settings
   an operator changes on an existing stage: accessLogSettings, autoDeploy,
   description.
13. moto's SigV4 check gets two things wrong, and refuses such requests
   with SignatureDoesNotMatch: it hashes a GET's (or DELETE's) empty body as
   if its payload were its headers, and it canonicalises a path with
   percent-encoded characters (an ARN's ":" in Lambda's Invoke path, the "$"
   of $default in API Gateway's) from the decoded path, while the SDKs sign
   it encoded twice, as SigV4 asks of every service but S3. The launcher
   hashes an empty body as empty, and checks the signature against the path
   encoded once more too.
"""

import datetime
import json
import os
import sys
import urllib.request
from urllib.parse import quote, unquote

from moto.apigatewayv2 import responses as apigwv2_responses
from moto.apigatewayv2 import urls as apigwv2_urls
from moto.awslambda import responses as lambda_responses
from moto.core.config import default_user_config
from moto.core.responses import ActionResult
from moto.sqs.models import Queue
from moto.stepfunctions import responses as sfn_responses
from moto.stepfunctions.parser.api import StateMachineType
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.backend.execution import SyncExecution
from moto.stepfunctions.parser.utils import long_uid
import threading

import boto3
from botocore.config import Config as BotoConfig
from moto.iam import access_control
from moto.kms import responses as kms_responses
from moto.logs import responses as logs_responses
from moto.secretsmanager import responses as secretsmanager_responses
from moto.settings import moto_server_port
from moto.sns import responses as sns_responses
from moto.ssm import responses as ssm_responses
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.sts.models import sts_backends


# 1. StartSyncExecution through moto's executor.
def start_sync_execution(self):
    arn = self._get_param("stateMachineArn")
    name = self._get_param("name") or long_uid()
    execution_input = self._get_param("input", if_none="{}")
    state_machine = self.stepfunction_backend.describe_state_machine(arn)
    # arn:aws:states:<region>:<account>:express:<machine>:<name>:<uuid>
    exec_arn = "{}:{}:{}".format(
        state_machine.arn.replace(":stateMachine:", ":express:", 1), name, long_uid()
    )
    execution = SyncExecution(
        name=name,
        sm_type=state_machine.sm_type,
        role_arn=state_machine.roleArn,
        exec_arn=exec_arn,
        account_id=self.current_account,
        region_name=self.region,
        state_machine=state_machine,
        start_date=datetime.datetime.now(tz=datetime.timezone.utc),
        cloud_watch_logging_session=None,
        activity_store={},
        input_data=execution_input,
    )
    # SyncExecution's worker runs the program in this thread: start returns
    # when the execution has ended.
    execution.start()
    out = dict(execution.to_start_sync_execution_output())
    out["status"] = str(getattr(out["status"], "value", out["status"]))
    out.pop("inputDetails", None)
    out.pop("outputDetails", None)
    out.pop("traceHeader", None)
    return ActionResult(out)


sfn_responses.StepFunctionResponse.start_sync_execution = start_sync_execution


# 2. Keep the state machine's type.
_create_state_machine = sfn_responses.StepFunctionResponse.create_state_machine


def create_state_machine(self):
    result = _create_state_machine(self)
    requested = self._get_param("type") or "STANDARD"
    for sm in self.stepfunction_backend.state_machines:
        if sm.name == self._get_param("name"):
            sm.type = requested
            sm.sm_type = StateMachineType(requested)
    return result


sfn_responses.StepFunctionResponse.create_state_machine = create_state_machine


# 3. ValidateStateMachineDefinition with moto's own ASL parser.
def validate_state_machine_definition(self):
    try:
        AmazonStateLanguageParser.parse(self._get_param("definition"))
    except Exception as err:
        return ActionResult({"result": "FAIL", "diagnostics": [{
            "severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": str(err),
        }]})
    return ActionResult({"result": "OK", "diagnostics": []})


sfn_responses.StepFunctionResponse.validate_state_machine_definition = validate_state_machine_definition


# 4. ListStateMachineVersions from the versions moto keeps.
def list_state_machine_versions(self):
    state_machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
    versions = [
        {"stateMachineVersionArn": v.arn, "creationDate": v.creation_date}
        for v in sorted(state_machine.versions.values(), key=lambda v: -v.version)
    ]
    return ActionResult({"stateMachineVersions": versions})


sfn_responses.StepFunctionResponse.list_state_machine_versions = list_state_machine_versions


# 5. Return RedriveAllowPolicy, and RedrivePolicy as compact JSON.
Queue.redrive_allow_policy = None
Queue.BASE_ATTRIBUTES = Queue.BASE_ATTRIBUTES + ["RedriveAllowPolicy"]
_queue_attributes = Queue.attributes.fget


def queue_attributes(self):
    result = _queue_attributes(self)
    if not result.get("RedriveAllowPolicy"):
        result.pop("RedriveAllowPolicy", None)
    if self.redrive_policy:
        # AWS returns the policy as compact JSON; moto's spaced form makes
        # the provider plan a whitespace-only update after every apply.
        result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
    return result


Queue.attributes = property(queue_attributes)


# 6. Route Invoke of listed functions to their emulators.
_invoke = lambda_responses.LambdaResponse.invoke


def lambda_routes():
    path = os.environ.get("WEBHOOKQ_LAMBDA_ROUTES")
    if not path or not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


_emulator_locks = {}
_emulator_locks_guard = threading.Lock()


def emulator_lock(url):
    with _emulator_locks_guard:
        return _emulator_locks.setdefault(url, threading.Lock())


def invoke(self):
    function_name = unquote(self.path.rsplit("/", 2)[-2])
    routes = lambda_routes()
    url = routes.get(function_name)
    if url is None:
        try:
            fn = self.backend.get_function(function_name, self._get_param("qualifier"))
        except Exception:  # unknown function: moto's own Invoke answers it
            fn = None
        if fn is not None:
            url = routes.get(fn.function_name) or routes.get(fn.function_arn)
    if url is None:
        return _invoke(self)
    request = urllib.request.Request(
        url, data=self.body if isinstance(self.body, bytes) else self.body.encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    with emulator_lock(url), urllib.request.urlopen(request, timeout=120) as answer:
        payload = answer.read()
        function_error = answer.headers.get("X-Amz-Function-Error")
    if not function_error:
        try:
            decoded = json.loads(payload)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict) and "errorType" in decoded:
            function_error = "Unhandled"
    headers = {"content-type": "application/json", "x-amz-executed-version": "$LATEST"}
    if function_error:
        headers["x-amz-function-error"] = function_error
    return 200, headers, payload


lambda_responses.LambdaResponse.invoke = invoke


# 7. ExportApi: prove the API and stage exist, export the routes.
def export_api(self):
    parts = self.path.split("?")[0].split("/")
    api_id = unquote(parts[-3])
    api = self.apigatewayv2_backend.get_api(api_id)  # NotFoundException when unknown
    stage = self.querystring.get("stageName", [None])[0]
    if stage:
        api.get_stage(stage)  # NotFoundException when the stage does not exist
    paths = {}
    for route in api.get_routes():
        method, _, path = route.route_key.partition(" ")
        paths.setdefault(path, {})[method.lower()] = {"responses": {"default": {"description": ""}}}
    doc = {"openapi": "3.0.1", "info": {"title": api.name, "version": "1"}, "paths": paths}
    return 200, {"content-type": "application/octet-stream"}, json.dumps(doc)


apigwv2_responses.ApiGatewayV2Response.export_api = export_api
apigwv2_urls.url_paths["{0}/v2/apis/(?P<api_id>[^/]+)/exports/(?P<specification>[^/]+)$"] = (
    apigwv2_responses.ApiGatewayV2Response.dispatch
)


# 8. The resource each action is evaluated on, as AWS does.
def _arn(self, service, rest):
    return "arn:aws:{}:{}:{}:{}".format(service, self.region, self.current_account, rest)


def _state_machine_resource(self):
    return self._get_param("stateMachineArn") or "*"


def _function_resource(self):
    if "/invocations" not in self.path:
        return "*"
    name = unquote(self.path.split("?")[0].rsplit("/", 2)[-2])
    if name.startswith("arn:"):
        return name
    return _arn(self, "lambda", "function:" + name)


def _parameter_resource(self):
    name = self._get_param("Name")
    return _arn(self, "ssm", "parameter/" + name.lstrip("/")) if name else "*"


def _secret_resource(self):
    secret_id = self._get_param("SecretId")
    if not secret_id:
        return "*"
    try:
        return self.backend.describe_secret(secret_id).arn
    except Exception:  # unknown secret: moto answers it after authorisation
        return secret_id if secret_id.startswith("arn:") else _arn(self, "secretsmanager", "secret:" + secret_id)


def _topic_resource(self):
    return self._get_param("TopicArn") or "*"


def _log_resource(self):
    group = self._get_param("logGroupName")
    if not group:
        return "*"
    stream = self._get_param("logStreamName")
    return _arn(self, "logs", "log-group:" + group + (":log-stream:" + stream if stream else ""))


def _key_resource(self):
    key_id = self._get_param("KeyId")
    if not key_id:
        return "*"
    try:
        return self.kms_backend.describe_key(key_id).arn
    except Exception:  # unknown key: moto answers it after authorisation
        return "*"


sfn_responses.StepFunctionResponse._determine_resource = _state_machine_resource
lambda_responses.LambdaResponse._determine_resource = _function_resource
ssm_responses.SimpleSystemManagerResponse._determine_resource = _parameter_resource
secretsmanager_responses.SecretsManagerResponse._determine_resource = _secret_resource
sns_responses.SNSResponse._determine_resource = _topic_resource
logs_responses.LogsResponse._determine_resource = _log_resource
kms_responses.KmsResponse._determine_resource = _key_resource


# 9. IAM's name for Lambda's Invoke.
_iam_request_init = access_control.IAMRequestBase.__init__


def iam_request_init(self, *args, **kwargs):
    _iam_request_init(self, *args, **kwargs)
    if self._action == "lambda:Invoke":
        self._action = "lambda:InvokeFunction"


access_control.IAMRequestBase.__init__ = iam_request_init


# 10. The executor's Lambda calls sign with the state machine's role. A task
# runs in a thread of its own; the credentials travel with it in a
# thread-local set around the Lambda call.
_task = threading.local()
_role_credentials = {}
_role_lock = threading.Lock()


def assume_for_service(role_arn, account_id, region):
    """Credentials of role_arn, as the service that is its principal gets them."""
    with _role_lock:
        role = _role_credentials.get(role_arn)
        if role is None:
            role = sts_backends[account_id]["aws"].assume_role(
                region_name=region, role_session_name="webhookq-states", role_arn=role_arn,
                policy=None, duration=3600, external_id=None,
            )
            _role_credentials[role_arn] = role
        return role


_execute_lambda_function_integration = lambda_eval_utils.execute_lambda_function_integration


def execute_lambda_function_integration(env, parameters, region, state_credentials):
    machine_arn = env.states.context_object.context_object_data["StateMachine"]["Id"]
    _, _, _, machine_region, account_id = machine_arn.split(":")[:5]
    machine = sfn_responses.get_backend(account_id, machine_region).describe_state_machine(machine_arn)
    _task.credentials = assume_for_service(machine.roleArn, account_id, machine_region)
    try:
        return _execute_lambda_function_integration(env, parameters, region, state_credentials)
    finally:
        _task.credentials = None


lambda_eval_utils.execute_lambda_function_integration = execute_lambda_function_integration


def boto_client_for(region, service, state_credentials=None):
    role = getattr(_task, "credentials", None)
    keys = {"aws_access_key_id": "ak", "aws_secret_access_key": "sk"}
    if role is not None:
        keys = {"aws_access_key_id": role.access_key_id, "aws_secret_access_key": role.secret_access_key,
                "aws_session_token": role.session_token}
    return boto3.client(
        service_name=service, region_name=region, endpoint_url="http://localhost:{}".format(moto_server_port()),
        config=BotoConfig(parameter_validation=False, retries={"max_attempts": 0, "total_max_attempts": 1},
                          connect_timeout=60, read_timeout=60),
        **keys,
    )


lambda_eval_utils.boto_client_for = boto_client_for


# 13. An empty body hashes as empty; a percent-encoded path is signed
# encoded twice.
_create_aws_request = access_control.IAMRequestBase._create_aws_request


def create_aws_request(self):
    request = _create_aws_request(self)
    if self._method in ("GET", "HEAD", "DELETE") and not self._body:
        request.data = b""
    return request


access_control.IAMRequestBase._create_aws_request = create_aws_request
_check_signature = access_control.IAMRequestBase.check_signature


def check_signature(self):
    try:
        _check_signature(self)
    except Exception:
        encoded = quote(self._path, safe="/~")
        if encoded == self._path:
            raise
        self._path = encoded
        _check_signature(self)


access_control.IAMRequestBase.check_signature = check_signature


# 11. No inline "poller" in SendMessage: the test polls while the mapping is
# enabled. moto keeps the mappings in this dict and polls by iterating it.
class _Unpolled(dict):
    def items(self):
        return iter(())


_queue_init = Queue.__init__


def queue_init(self, *args, **kwargs):
    _queue_init(self, *args, **kwargs)
    self.lambda_event_source_mappings = _Unpolled(self.lambda_event_source_mappings)


Queue.__init__ = queue_init


# 12. UpdateStage for an existing stage's operator settings.
def update_stage(self):
    api_id = self.path.split("/")[-3]
    stage = self.apigatewayv2_backend.get_api(api_id).get_stage(unquote(self.path.split("/")[-1]))
    config = json.loads(self.body or "{}")
    if "accessLogSettings" in config:
        stage.access_log_settings = config["accessLogSettings"]
    if "autoDeploy" in config:
        stage.auto_deploy = config["autoDeploy"]
    if "description" in config:
        stage.description = config["description"]
    stage.updated = datetime.datetime.now()
    return 200, {}, json.dumps(stage.to_json())


apigwv2_responses.ApiGatewayV2Response.update_stage = update_stage


if __name__ == "__main__":
    # The Step Functions executor (not the lookup-only backend) for every
    # state machine, including the ones Terraform creates.
    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    default_user_config["lambda"] = {"use_docker": False}
    argv = sys.argv[1:]
    if "-p" in argv:
        # moto's executor calls its own Lambda API on MOTO_PORT.
        os.environ["MOTO_PORT"] = argv[argv.index("-p") + 1]
    from moto.server import main

    main(argv)
