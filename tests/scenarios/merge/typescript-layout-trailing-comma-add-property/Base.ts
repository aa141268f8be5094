export interface Settings {
  port: number;
  host: string;
}

export const defaults: Settings = {
  port: 8080,
  host: "localhost"
};

export function withPort(port: number): Settings {
  return { ...defaults, port };
}
