//! The service's OpenAPI 3.1 description (`riskpipe serve --openapi`): every route, its bodies
//! and every status it can answer with. `docs/openapi.json` is this document, checked in; a test
//! keeps the two equal and runs schemathesis against a live service with it.

use serde_json::{Value, json};

fn error_response(what: &str) -> Value {
    json!({
        "description": what,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn json_ok(what: &str, schema: &str) -> Value {
    json!({
        "description": what,
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
    })
}

fn name_param() -> Value {
    json!({"name": "name", "in": "path", "required": true, "description": "The model: a bundle's pipeline name.", "schema": {"type": "string"}})
}

fn version_param() -> Value {
    json!({"name": "version", "in": "path", "required": true, "description": "The bundle's version (its sha256 prefix).", "schema": {"type": "string"}})
}

/// The statuses every route behind the bearer token may answer with besides its own.
fn guarded(mut responses: Value) -> Value {
    responses["401"] = error_response("The service has a bearer token and the request did not carry it.");
    responses["408"] = error_response("The request took longer than `--request-timeout-secs`.");
    responses
}

fn get(summary: &str, params: Vec<Value>, responses: Value) -> Value {
    json!({"get": {"summary": summary, "parameters": params, "responses": guarded(responses)}})
}

fn infer(summary: &str, params: Vec<Value>, request: &str, ok: &str) -> Value {
    let mut responses = json!({
        "200": json_ok("The scored rows.", ok),
        "400": error_response("The body is not JSON, or an input is missing, of the wrong type or shape."),
        "404": error_response("No such model, or not this version."),
        "413": error_response("The body is larger than `--max-body-bytes`."),
        "422": error_response("Well-formed rows the bundle cannot score (the message names the row and column)."),
    });
    responses = guarded(responses);
    json!({"post": {
        "summary": summary,
        "parameters": params,
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{request}")}}}},
        "responses": responses,
    }})
}

fn schemas() -> Value {
    let cell = json!({"type": ["number", "string", "null"]});
    let tensor_meta = json!({
        "type": "object",
        "required": ["name", "datatype", "shape"],
        "properties": {
            "name": {"type": "string"},
            "datatype": {"type": "string", "enum": ["FP64", "BYTES"]},
            "shape": {"type": "array", "items": {"type": "integer"}},
        },
    });
    json!({
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string", "description": "What is wrong, naming the input."}},
        },
        "ServerMetadata": {
            "type": "object",
            "required": ["name", "version", "extensions"],
            "properties": {
                "name": {"type": "string"},
                "version": {"type": "string"},
                "extensions": {"type": "array", "items": {"type": "string"}},
            },
        },
        "Live": {"type": "object", "required": ["live"], "properties": {"live": {"type": "boolean"}}},
        "Ready": {"type": "object", "required": ["ready"], "properties": {"ready": {"type": "boolean"}}},
        "ModelReady": {
            "type": "object",
            "required": ["name", "ready"],
            "properties": {"name": {"type": "string"}, "ready": {"type": "boolean"}},
        },
        "ModelMetadata": {
            "type": "object",
            "required": ["name", "versions", "platform", "inputs", "outputs"],
            "properties": {
                "name": {"type": "string"},
                "versions": {"type": "array", "items": {"type": "string"}},
                "platform": {"type": "string"},
                "inputs": {"type": "array", "items": tensor_meta},
                "outputs": {"type": "array", "items": tensor_meta},
                "parameters": {"type": "object"},
            },
        },
        "InferenceRequest": {
            "type": "object",
            "required": ["inputs"],
            "properties": {
                "id": {"type": "string"},
                "parameters": {"type": "object"},
                "inputs": {"type": "array", "items": {
                    "type": "object",
                    "required": ["name", "shape", "datatype", "data"],
                    "properties": {
                        "name": {"type": "string"},
                        "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                        "datatype": {"type": "string"},
                        "parameters": {"type": "object"},
                        "data": {"type": "array"},
                    },
                }},
                "outputs": {"type": "array", "items": {"type": "object"}},
            },
        },
        "InferenceResponse": {
            "type": "object",
            "required": ["model_name", "model_version", "id", "outputs"],
            "properties": {
                "model_name": {"type": "string"},
                "model_version": {"type": "string"},
                "id": {"type": "string"},
                "outputs": {"type": "array", "items": {
                    "type": "object",
                    "required": ["name", "datatype", "shape", "data"],
                    "properties": {
                        "name": {"type": "string"},
                        "datatype": {"type": "string", "enum": ["FP64", "BYTES"]},
                        "shape": {"type": "array", "items": {"type": "integer"}},
                        "data": {"type": "array", "items": cell},
                    },
                }},
            },
        },
        "MlflowRequest": {
            "type": "object",
            "description": "One of `dataframe_split` or `dataframe_records`.",
            "properties": {
                "dataframe_split": {
                    "type": "object",
                    "required": ["columns", "data"],
                    "properties": {
                        "columns": {"type": "array", "items": {"type": "string"}},
                        "data": {"type": "array", "items": {"type": "array"}},
                    },
                },
                "dataframe_records": {"type": "array", "items": {"type": "object"}},
            },
        },
        "MlflowResponse": {
            "type": "object",
            "required": ["predictions"],
            "properties": {"predictions": {"type": "array", "items": {
                "type": "object",
                "additionalProperties": cell,
            }}},
        },
        "Drift": {
            "type": "object",
            "required": ["name", "version", "rows", "reference_rows", "variables"],
            "properties": {
                "name": {"type": "string"},
                "version": {"type": "string"},
                "rows": {"type": "integer", "minimum": 0},
                "reference_rows": {"type": "integer", "minimum": 0},
                "variables": {"type": "array", "items": {
                    "type": "object",
                    "required": ["name", "psi", "js", "flag"],
                    "properties": {
                        "name": {"type": "string"},
                        "psi": {"type": ["number", "null"]},
                        "js": {"type": ["number", "null"]},
                        "flag": {"type": "string"},
                    },
                }},
            },
        },
        "RepositoryIndex": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "state"],
            "properties": {
                "name": {"type": "string"},
                "version": {"type": "string"},
                "state": {"type": "string", "enum": ["READY", "UNAVAILABLE"]},
                "reason": {"type": "string"},
            },
        }},
        "Empty": {"type": "object", "maxProperties": 0},
    })
}

/// The OpenAPI document as pretty JSON, ending in a newline.
pub fn openapi() -> String {
    let np = || vec![name_param()];
    let nvp = || vec![name_param(), version_param()];
    let not_found = || error_response("No such model, or not this version.");
    let paths = json!({
        "/v2": get("Server metadata.", vec![], json!({"200": json_ok("The server.", "ServerMetadata")})),
        "/v2/health/live": {"get": {"summary": "Liveness (never needs the bearer token).", "security": [], "responses": {"200": json_ok("Live.", "Live")}}},
        "/v2/health/ready": {"get": {"summary": "Readiness (never needs the bearer token).", "security": [], "responses": {"200": json_ok("Ready.", "Ready")}}},
        "/v2/models/{name}": get("Model metadata: inputs and outputs with datatypes and shapes.", np(),
            json!({"200": json_ok("The model.", "ModelMetadata"), "404": not_found()})),
        "/v2/models/{name}/versions/{version}": get("Metadata of one version of a model.", nvp(),
            json!({"200": json_ok("The model.", "ModelMetadata"), "404": not_found()})),
        "/v2/models/{name}/ready": get("Whether the model is served.", np(),
            json!({"200": json_ok("Served.", "ModelReady"), "404": not_found()})),
        "/v2/models/{name}/drift": get("PSI and Jensen-Shannon distance of the score and every feature over the sliding window, against the training reference.", np(),
            json!({"200": json_ok("The drift.", "Drift"), "404": error_response("No such model, or its bundle has no training reference.")})),
        "/v2/models/{name}/infer": infer("Score rows: one input tensor per column, batch along the first dimension.", np(), "InferenceRequest", "InferenceResponse"),
        "/v2/models/{name}/versions/{version}/infer": infer("Score rows with one version of a model.", nvp(), "InferenceRequest", "InferenceResponse"),
        "/invocations": infer("Score rows sent MLflow-style (the first bundle served).", vec![], "MlflowRequest", "MlflowResponse"),
        "/v2/repository/index": {"post": {"summary": "Every model the service knows and whether it is served.", "responses": guarded(json!({"200": json_ok("The models.", "RepositoryIndex")}))}},
        "/v2/repository/models/{name}/load": {"post": {"summary": "Load a model again from its bundle folder; the served version stays until the new one is in place.", "parameters": np(),
            "responses": guarded(json!({"200": json_ok("Loaded.", "Empty"), "404": not_found(), "422": error_response("The bundle failed to load; the served version stays.")}))}},
        "/v2/repository/models/{name}/unload": {"post": {"summary": "Stop serving a model until it is loaded again.", "parameters": np(),
            "responses": guarded(json!({"200": json_ok("Unloaded.", "Empty"), "404": error_response("The model is not loaded.")}))}},
        "/metrics": get("Prometheus metrics (text format).", vec![], json!({"200": {
            "description": "Requests, latency, scores, inputs, audit lines and drift.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }})),
    });
    let doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "riskpipe scoring service",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Open Inference Protocol (KServe V2) REST and MLflow-style `/invocations` over riskpipe bundles. Every error is `{\"error\": ...}`.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "Only when the service runs with `--auth-token-env`."}},
        },
        "security": [{}, {"bearer": []}],
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}
