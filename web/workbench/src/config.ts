// The page's configuration block, written by the BFF (gateway/http/workbench.py).
export interface PageConfig {
  demo: boolean;
  agents?: string[];
  callers?: string[];
}

export function pageConfig(): PageConfig {
  const block = document.getElementById("tidegate-workbench-config");
  if (!block?.textContent) return { demo: false };
  return JSON.parse(block.textContent) as PageConfig;
}
