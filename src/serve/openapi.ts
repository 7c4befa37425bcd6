// The OpenAPI 3.1 document served at /openapi.json.
const err = {
  description: 'error',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};
const tagParams = [
  { name: 'topK', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 5 } },
  { name: 'threshold', in: 'query', schema: { type: 'number', minimum: 0, maximum: 1, default: 0.5 } },
  {
    name: 'rate',
    in: 'query',
    description: 'sample rate of raw PCM (needed for application/octet-stream)',
    schema: { type: 'integer', minimum: 1000, maximum: 384000 },
  },
  {
    name: 'encoding',
    in: 'query',
    description: 'raw PCM sample format (mono)',
    schema: { type: 'string', enum: ['f32le', 's16le'], default: 'f32le' },
  },
];
const modelId = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'the model id of GET /v1/models',
  schema: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' },
};
const audioBody = {
  required: true,
  content: {
    'multipart/form-data': {
      schema: {
        type: 'object',
        properties: { file: { type: 'string', format: 'binary' } },
        required: ['file'],
      },
    },
    'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
  },
};

export function openApiDocument() {
  return {
    openapi: '3.1.0',
    info: { title: 'audiotag serve', version: '1' },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      },
      schemas: {
        Error: { type: 'object', properties: { error: { type: 'string' }, statusCode: { type: 'integer' } } },
        TagResult: {
          type: 'object',
          properties: {
            duration: { type: 'number' },
            classes: { type: 'array', items: { type: 'string' } },
            clip: { type: 'object', additionalProperties: { type: 'number' } },
            top: {
              type: 'array',
              items: { type: 'object', properties: { label: { type: 'string' }, score: { type: 'number' } } },
            },
            windows: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  start: { type: 'number' },
                  end: { type: 'number' },
                  scores: { type: 'array', items: { type: 'number' } },
                },
              },
            },
            events: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  start: { type: 'number' },
                  end: { type: 'number' },
                  label: { type: 'string' },
                  confidence: { type: 'number' },
                },
              },
            },
          },
        },
      },
    },
    security: [{}, { bearer: [] }, { apiKey: [] }],
    paths: {
      '/v1/tag': {
        post: {
          summary: 'Tag one recording (multipart "file" in any supported format, or raw mono PCM)',
          parameters: tagParams,
          requestBody: audioBody,
          responses: {
            200: {
              description: 'scores',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/TagResult' } } },
            },
            400: err,
            401: err,
            413: err,
            429: err,
            503: err,
          },
        },
      },
      '/v1/jobs': {
        post: {
          summary: 'Queue a (long) recording; returns the job id',
          parameters: tagParams,
          requestBody: audioBody,
          responses: {
            202: {
              description: 'queued',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { id: { type: 'string' }, state: { type: 'string' } },
                  },
                },
              },
            },
            400: err,
            401: err,
            413: err,
          },
        },
      },
      '/v1/jobs/{id}': {
        get: {
          summary: 'A job: state (queued, running, done, failed), progress 0..1, result',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'the job' }, 401: err, 404: err },
        },
      },
      '/v1/models': {
        get: {
          summary: 'The model: classes, sample rate, window',
          responses: { 200: { description: 'models' } },
        },
      },
      '/v1/models/{id}/model.onnx': {
        get: {
          summary: 'The model as ONNX with its feature front-end (waveform input), for the live page',
          parameters: [modelId],
          responses: {
            200: { description: 'ONNX bytes', content: { 'application/octet-stream': {} } },
            404: err,
            409: err,
          },
        },
      },
      '/v1/models/{id}/report': {
        get: {
          summary: "The training report's data: classes, metrics.json, chart list, report page",
          parameters: [modelId],
          responses: { 200: { description: 'report data' }, 404: err },
        },
      },
      '/v1/models/{id}/charts/{chart}': {
        get: {
          summary: 'One chart of the training report (SVG)',
          parameters: [
            modelId,
            {
              name: 'chart',
              in: 'path',
              required: true,
              schema: { type: 'string', pattern: '^[a-z0-9-]{1,64}\\.svg$' },
            },
          ],
          responses: { 200: { description: 'SVG', content: { 'image/svg+xml': {} } }, 400: err, 404: err },
        },
      },
      '/v1/models/{id}/report.html': {
        get: {
          summary: "The run's training report page",
          parameters: [modelId],
          responses: { 200: { description: 'HTML', content: { 'text/html': {} } }, 404: err },
        },
      },
      '/healthz': { get: { summary: 'Liveness', responses: { 200: { description: 'ok' } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text' } } } },
    },
  };
}
