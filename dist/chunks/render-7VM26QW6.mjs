const require = process.getBuiltinModule('node:module').createRequire(import.meta.url); const __filename = process.getBuiltinModule('node:url').fileURLToPath(import.meta.url); const __dirname = process.getBuiltinModule('node:path').dirname(__filename);
import{a,b,c,d,e}from"./chunk-IMEQD4S7.mjs";import"./chunk-BUVM2SXK.mjs";import"./chunk-AMIMZGCQ.mjs";import"./chunk-HZC6Q536.mjs";export{a as COMMENT_LIMIT,b as SUMMARY_LIMIT,d as evidenceMarker,e as renderEvidence,c as withoutRecordedTime};
//# sourceMappingURL=render-7VM26QW6.mjs.map
