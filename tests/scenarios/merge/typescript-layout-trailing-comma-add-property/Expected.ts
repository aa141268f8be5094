export interface Settings {
  port: number;
  host: string;
  secure?: boolean;
}

export const defaults: Settings = {
  port: 8080,
  host: "localhost",
  secure: false
};

export function withPort(port: number): Settings {
  return { ...defaults, port };
}
