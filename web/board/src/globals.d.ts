// Set by build.mjs from gql/manifest.json: the SupervisorBoard operation's id ("sha256:...").
declare const BOARD_DOCUMENT_ID: string;
// Stylesheets are bundled by esbuild.
declare module "*.css";
