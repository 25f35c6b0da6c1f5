import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
var _="0.1.0";export{_ as a};
//# sourceMappingURL=chunk-RR46NJDG.mjs.map
