const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a}from"./chunk-ZUMYB7S3.mjs";import"./chunk-2YG2VH6L.mjs";import"./chunk-HZC6Q536.mjs";export{a as describeLocation};
//# sourceMappingURL=location-GUGJQP7Z.mjs.map
