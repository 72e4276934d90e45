/**
 * What the global setup hands to every test file through vitest's provide/inject.
 * A service is either reachable (its coordinates) or unavailable with a sentence saying why.
 */
export interface TestRedis {
  url: string;
}

export interface TestS3 {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export type Unavailable = { unavailable: string };

export interface TestServices {
  redis: TestRedis | Unavailable;
  s3: TestS3 | Unavailable;
}

declare module 'vitest' {
  export interface ProvidedContext {
    labelqTestServices: TestServices;
  }
}
