import { createRequire as __slipwayCreateRequire } from 'node:module';
import { dirname as __slipwayDirname } from 'node:path';
import { fileURLToPath as __slipwayFileURLToPath } from 'node:url';
const require = __slipwayCreateRequire(import.meta.url);
const __filename = __slipwayFileURLToPath(import.meta.url);
const __dirname = __slipwayDirname(__filename);
import{a as s}from"./chunk-22VCRG5B.mjs";import{g as r}from"./chunk-G7XAKCW6.mjs";var e=r(s()),a=e.default,{Alias:i,CST:o,Composer:t,Document:n,Lexer:c,LineCounter:p,Pair:l,Parser:m,Scalar:A,Schema:u,YAMLError:L,YAMLMap:M,YAMLParseError:S,YAMLSeq:Y,YAMLWarning:f,isAlias:C,isCollection:D,isDocument:P,isMap:d,isNode:x,isPair:g,isScalar:q,isSeq:v,parse:y,parseAllDocuments:E,parseDocument:h,stringify:N,visit:T,visitAsync:W}=e;export{i as Alias,o as CST,t as Composer,n as Document,c as Lexer,p as LineCounter,l as Pair,m as Parser,A as Scalar,u as Schema,L as YAMLError,M as YAMLMap,S as YAMLParseError,Y as YAMLSeq,f as YAMLWarning,a as default,C as isAlias,D as isCollection,P as isDocument,d as isMap,x as isNode,g as isPair,q as isScalar,v as isSeq,y as parse,E as parseAllDocuments,h as parseDocument,N as stringify,T as visit,W as visitAsync};
//# sourceMappingURL=yaml-I2A7VLF6.mjs.map
