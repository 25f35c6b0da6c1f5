import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{e as m}from"./chunk-BDUSM5XR.mjs";import{t as f,v as g,x as c}from"./chunk-HDIZEJH7.mjs";import{a}from"./chunk-G7XAKCW6.mjs";async function b(e,r,i){let n=await e.getManifest(i),s={name:r,...u(n.descriptor),platforms:{}};if(!f(n.manifest)){let t=await p(e,n.manifest.config);return s.platforms[t??"unknown"]=n.descriptor.digest,s}let o={};for(let t of n.manifest.manifests)if(c(t)){let d=t.annotations?.["vnd.docker.reference.digest"]??"unknown";o[d]=t.digest}else t.platform?s.platforms[g(t.platform)]=t.digest:s.platforms[`unknown/${t.digest}`]=t.digest;return Object.keys(o).length>0&&(s.attestationManifests=o),s}a(b,"readSubject");function u(e){return{digest:e.digest,mediaType:e.mediaType,size:e.size}}a(u,"pick");async function p(e,r){if(!/image\.config|container\.image/.test(r.mediaType))return;let i=await m(e,r);if(!(!i.os||!i.architecture))return g({os:i.os,architecture:i.architecture,...i.variant?{variant:i.variant}:{}})}a(p,"readConfigPlatform");export{b as a};
//# sourceMappingURL=chunk-LPT22LXG.mjs.map
