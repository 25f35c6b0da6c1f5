import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PackageURL } from 'packageurl-js';
import { describe, expect, it } from 'vitest';
import { InvalidValueError } from '../../../shared/core/errors.js';
import type { Digest } from '../../../shared/oci/types.js';
import { writeCycloneDx } from '../../../shared/sbom/cyclonedx.js';
import { validateCycloneDx, validateSpdx } from '../../../shared/sbom/schema.js';
import { readLicence, SLIPWAY_SBOM_NAMESPACE, uuidV5, writeSpdx } from '../../../shared/sbom/spdx.js';
import type { Package, PlatformInventory } from '../../../shared/sbom/types.js';

const SPDX_SCHEMA = JSON.parse(
  readFileSync(new URL('../../fixtures/schemas/spdx-2.3.schema.json', import.meta.url), 'utf8'),
) as object;

const TOOL = { name: 'slipway', version: '1.4.0' } as const;
const sha = (c: string): Digest => `sha256:${c.repeat(64)}`;
const DIGEST = sha('a');
const OTHER_DIGEST = sha('b');
const UUID_V5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const STATUS = 'var/lib/dpkg/status';
const BINARY = 'usr/local/bin/api';

function pkg(p: Omit<Package, 'location'> & { path: string; layer?: number }): Package {
  const { path, layer, ...rest } = p;
  return { ...rest, location: { path, layer: layer ?? 0 } };
}

// A Debian-based image with a Node app, a Python tool, a Go binary and a Java jar: licences valid, free
// text, lower-case, compound and absent; `ms` installed twice at different paths (same purl).
const PACKAGES: Package[] = [
  pkg({
    ecosystem: 'deb',
    name: 'bash',
    version: '5.2.15-2+b7',
    purl: 'pkg:deb/debian/bash@5.2.15-2%2Bb7?arch=amd64&distro=debian-12',
    licenses: ['GPL-3.0-or-later'],
    source: { name: 'bash', version: '5.2.15-2' },
    path: STATUS,
  }),
  pkg({
    ecosystem: 'deb',
    name: 'libc6',
    version: '2.36-9+deb12u8',
    purl: 'pkg:deb/debian/libc6@2.36-9%2Bdeb12u8?arch=amd64&distro=debian-12&upstream=glibc',
    licenses: ['LGPL-2.1', 'GPL-2.0', 'public-domain'],
    source: { name: 'glibc', version: '2.36-9+deb12u8' },
    path: STATUS,
  }),
  pkg({
    ecosystem: 'deb',
    name: 'libssl3',
    version: '3.0.15-1~deb12u1',
    purl: 'pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl',
    licenses: ['Apache-2.0'],
    source: { name: 'openssl' },
    path: STATUS,
  }),
  pkg({
    ecosystem: 'deb',
    name: 'tzdata',
    version: '2024a-0+deb12u1',
    purl: 'pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12',
    licenses: [],
    path: STATUS,
  }),
  pkg({
    ecosystem: 'golang',
    name: 'github.com/spf13/cobra',
    version: 'v1.8.0',
    purl: 'pkg:golang/github.com/spf13/cobra@v1.8.0',
    licenses: [],
    path: BINARY,
    layer: 2,
  }),
  pkg({
    ecosystem: 'golang',
    name: 'stdlib',
    version: 'go1.22.1',
    purl: 'pkg:golang/stdlib@go1.22.1',
    licenses: ['BSD-3-Clause'],
    properties: { goVersion: 'go1.22.1', mainModule: 'github.com/acme/api' },
    path: BINARY,
    layer: 2,
  }),
  pkg({
    ecosystem: 'maven',
    name: 'jackson-databind',
    version: '2.17.0',
    purl: 'pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.17.0',
    licenses: ['The Apache Software License, Version 2.0'],
    properties: { groupId: 'com.fasterxml.jackson.core' },
    path: 'app/lib/jackson-databind-2.17.0.jar',
    layer: 2,
  }),
  pkg({
    ecosystem: 'maven',
    name: 'jaxb-runtime',
    version: '4.0.5',
    purl: 'pkg:maven/org.glassfish.jaxb/jaxb-runtime@4.0.5',
    licenses: ['GPL-2.0-only WITH Classpath-exception-2.0'],
    path: 'app/lib/jaxb-runtime-4.0.5.jar',
    layer: 2,
  }),
  pkg({
    ecosystem: 'npm',
    name: '@babel/core',
    version: '7.24.0',
    purl: 'pkg:npm/%40babel/core@7.24.0',
    licenses: ['MIT'],
    path: 'app/node_modules/@babel/core/package.json',
    layer: 1,
  }),
  pkg({
    ecosystem: 'npm',
    name: '@types/node',
    version: '20.11.30',
    purl: 'pkg:npm/%40types/node@20.11.30',
    licenses: ['mit'],
    path: 'app/node_modules/@types/node/package.json',
    layer: 1,
  }),
  pkg({
    ecosystem: 'npm',
    name: 'ms',
    version: '2.1.3',
    purl: 'pkg:npm/ms@2.1.3',
    licenses: ['MIT'],
    path: 'app/node_modules/debug/node_modules/ms/package.json',
    layer: 1,
  }),
  pkg({
    ecosystem: 'npm',
    name: 'ms',
    version: '2.1.3',
    purl: 'pkg:npm/ms@2.1.3',
    licenses: ['MIT'],
    path: 'app/node_modules/ms/package.json',
    layer: 1,
  }),
  pkg({
    ecosystem: 'npm',
    name: 'rc',
    version: '1.2.8',
    purl: 'pkg:npm/rc@1.2.8',
    licenses: ['(BSD-2-Clause or MIT or Apache-2.0)'],
    path: 'app/node_modules/rc/package.json',
    layer: 1,
  }),
  pkg({
    ecosystem: 'pypi',
    name: 'PyYAML',
    version: '6.0.1',
    purl: 'pkg:pypi/pyyaml@6.0.1',
    licenses: ['MIT'],
    path: 'usr/lib/python3/dist-packages/PyYAML-6.0.1.dist-info/METADATA',
  }),
  pkg({
    ecosystem: 'pypi',
    name: 'attrs',
    version: '23.2.0',
    purl: 'pkg:pypi/attrs@23.2.0',
    licenses: ['MIT'],
    path: 'usr/lib/python3/dist-packages/attrs-23.2.0.dist-info/METADATA',
  }),
  pkg({
    ecosystem: 'pypi',
    name: 'requests',
    version: '2.31.0',
    purl: 'pkg:pypi/requests@2.31.0',
    licenses: ['Apache 2.0'],
    path: 'usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA',
  }),
];

function inventory(overrides: Partial<PlatformInventory> = {}): PlatformInventory {
  return {
    name: 'ghcr.io/acme/api',
    platform: { os: 'linux', architecture: 'amd64' },
    manifestDigest: DIGEST,
    created: '2024-05-01T12:00:00.123456789Z',
    distro: { id: 'debian', versionId: '12', codename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
    layers: [
      { digest: sha('1'), diffId: sha('4'), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
      { digest: sha('2'), diffId: sha('5'), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
      { digest: sha('3'), diffId: sha('6'), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
    ],
    packages: PACKAGES,
    ...overrides,
  };
}

interface CdxComponent {
  'bom-ref': string;
  type: string;
  name: string;
  version?: string;
  purl?: string;
  licenses?: ({ license: { id?: string; name?: string } } | { expression: string })[];
  properties?: { name: string; value: string }[];
}
interface CdxBom {
  serialNumber: string;
  metadata: { timestamp: string; component: CdxComponent; tools: { components: CdxComponent[] } };
  components: CdxComponent[];
  dependencies: { ref: string; dependsOn?: string[] }[];
}
interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo?: string;
  licenseDeclared: string;
  primaryPackagePurpose?: string;
  checksums?: { algorithm: string; checksumValue: string }[];
  externalRefs?: { referenceCategory: string; referenceType: string; referenceLocator: string }[];
}
interface SpdxDocument {
  name: string;
  documentNamespace: string;
  creationInfo: { created: string; creators: string[] };
  packages: SpdxPackage[];
  hasExtractedLicensingInfos?: { licenseId: string; extractedText: string }[];
  relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
}

const cdx = (inv = inventory()): CdxBom => JSON.parse(writeCycloneDx(inv, TOOL)) as CdxBom;
const spdx = (inv = inventory()): SpdxDocument => JSON.parse(writeSpdx(inv, TOOL)) as SpdxDocument;
const component = (bom: CdxBom, name: string): CdxComponent[] => bom.components.filter((c) => c.name === name);
const spdxPackage = (doc: SpdxDocument, name: string): SpdxPackage => doc.packages.find((p) => p.name === name)!;
const prop = (c: CdxComponent, name: string): string | undefined => c.properties?.find((p) => p.name === name)?.value;

describe('schema validation', () => {
  it('accepts the CycloneDX document', async () => {
    expect(await validateCycloneDx(writeCycloneDx(inventory(), TOOL))).toEqual([]);
  });

  it('accepts the SPDX document', () => {
    expect(validateSpdx(writeSpdx(inventory(), TOOL), SPDX_SCHEMA)).toEqual([]);
  });

  it('accepts documents for an image without a distro, packages or layers', async () => {
    const bare = inventory({ distro: undefined, packages: [], layers: [] });
    expect(await validateCycloneDx(writeCycloneDx(bare, TOOL))).toEqual([]);
    expect(validateSpdx(writeSpdx(bare, TOOL), SPDX_SCHEMA)).toEqual([]);
  });

  it('rejects a broken CycloneDX document, so a pass means something', async () => {
    const bom = cdx() as unknown as Record<string, unknown> & CdxBom;
    bom.components[0]!.type = 'banana';
    bom.specVersion = 'one point six';
    const errors = await validateCycloneDx(JSON.stringify(bom));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(/components\/0\/type/);

    const duplicate = cdx();
    duplicate.components[1]!['bom-ref'] = duplicate.components[0]!['bom-ref'];
    expect((await validateCycloneDx(JSON.stringify(duplicate))).join('\n')).toMatch(/used more than once/);
    expect(await validateCycloneDx('{')).toEqual([expect.stringMatching(/^not JSON/)]);
  });

  it('rejects a broken SPDX document, so a pass means something', () => {
    const doc = spdx() as unknown as Record<string, unknown> & SpdxDocument;
    delete (doc.packages[0] as Partial<SpdxPackage>).name;
    doc.unexpected = true;
    const errors = validateSpdx(JSON.stringify(doc), SPDX_SCHEMA);
    expect(errors.join('\n')).toMatch(/\/packages\/0 must have required property 'name'/);
    expect(errors.join('\n')).toMatch(/must NOT have additional properties/);

    const dangling = spdx();
    dangling.relationships.push({
      spdxElementId: 'SPDXRef-Image',
      relationshipType: 'CONTAINS',
      relatedSpdxElement: 'SPDXRef-Nope',
    });
    dangling.packages[2]!.SPDXID = dangling.packages[3]!.SPDXID;
    dangling.creationInfo.created = '2024-05-01T12:00:00.000Z';
    const semantic = validateSpdx(JSON.stringify(dangling), SPDX_SCHEMA).join('\n');
    expect(semantic).toMatch(/unknown element "SPDXRef-Nope"/);
    expect(semantic).toMatch(/used more than once/);
    expect(semantic).toMatch(/is not YYYY-MM-DDThh:mm:ssZ/);
  });

  it('uses the SPDX 2.3 schema file unmodified', () => {
    // Byte for byte what the SPDX project published: the sha256 recorded beside the file with its source.
    const bytes = readFileSync(new URL('../../fixtures/schemas/spdx-2.3.schema.json', import.meta.url));
    const readme = readFileSync(new URL('../../fixtures/schemas/README.md', import.meta.url), 'utf8');
    const recorded = /^- sha256: `([0-9a-f]{64})`$/m.exec(readme)?.[1];
    expect(recorded).toBeDefined();
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(recorded);
    expect(SPDX_SCHEMA).toMatchObject({ $id: 'http://spdx.org/rdf/terms/2.3', title: 'SPDX 2.3' });
  });
});

describe('determinism', () => {
  it('gives byte-identical output for the same inventory', () => {
    expect(writeCycloneDx(inventory(), TOOL)).toBe(writeCycloneDx(inventory(), TOOL));
    expect(writeSpdx(inventory(), TOOL)).toBe(writeSpdx(inventory(), TOOL));
  });

  it('does not depend on the order packages arrive in', () => {
    const shuffled = inventory({ packages: [...PACKAGES].reverse() });
    expect(writeCycloneDx(shuffled, TOOL)).toBe(writeCycloneDx(inventory(), TOOL));
    expect(writeSpdx(shuffled, TOOL)).toBe(writeSpdx(inventory(), TOOL));
  });

  it('orders by code point, not by the locale', () => {
    // localeCompare would put "attrs" before "PyYAML"; code-point order is the same on every runner.
    const names = cdx()
      .components.filter((c) => prop(c, 'slipway:package:ecosystem') === 'pypi')
      .map((c) => c.name);
    expect(names).toEqual(['PyYAML', 'attrs', 'requests']);
  });

  it('changes only the timestamps when the created time changes', () => {
    const later = inventory({ created: '2025-01-02T03:04:05+01:00' });
    const [a, b] = [writeCycloneDx(inventory(), TOOL), writeCycloneDx(later, TOOL)];
    expect(cdx().metadata.timestamp).toBe('2024-05-01T12:00:00.000Z');
    expect(cdx(later).metadata.timestamp).toBe('2025-01-02T02:04:05.000Z');
    expect(a).not.toBe(b);
    expect(a.replaceAll('2024-05-01T12:00:00.000Z', '2025-01-02T02:04:05.000Z')).toBe(b);

    const [c, d] = [writeSpdx(inventory(), TOOL), writeSpdx(later, TOOL)];
    expect(spdx().creationInfo.created).toBe('2024-05-01T12:00:00Z');
    expect(c.replaceAll('2024-05-01T12:00:00Z', '2025-01-02T02:04:05Z')).toBe(d);
  });

  it('refuses a created time that is not RFC 3339', () => {
    expect(() => writeCycloneDx(inventory({ created: 'May 1 2024' }), TOOL)).toThrow(InvalidValueError);
    expect(() => writeSpdx(inventory({ created: '' }), TOOL)).toThrow(InvalidValueError);
  });
});

describe('identifiers derived from the digest', () => {
  it('implements UUIDv5 (RFC 4122 test vector) and documents the namespace', () => {
    expect(uuidV5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe(
      '2ed6657d-e927-568b-95e1-2665a8aea6a2',
    );
    expect(uuidV5('6ba7b811-9dad-11d1-80b4-00c04fd430c8', 'https://slipway.dev/sbom')).toBe(SLIPWAY_SBOM_NAMESPACE);
  });

  it('derives the CycloneDX serial number from name and digest', () => {
    const serial = cdx().serialNumber;
    expect(serial).toBe(`urn:uuid:${uuidV5(SLIPWAY_SBOM_NAMESPACE, `cyclonedx:ghcr.io/acme/api@${DIGEST}`)}`);
    expect(serial.slice('urn:uuid:'.length)).toMatch(UUID_V5);
    expect(cdx(inventory({ created: '2030-01-01T00:00:00Z' })).serialNumber).toBe(serial);
    expect(cdx(inventory({ manifestDigest: OTHER_DIGEST })).serialNumber).not.toBe(serial);
  });

  it('derives the SPDX namespace from name and digest', () => {
    const namespace = spdx().documentNamespace;
    const uuid = uuidV5(SLIPWAY_SBOM_NAMESPACE, `spdx:ghcr.io/acme/api@${DIGEST}`);
    expect(namespace).toBe(`https://slipway.dev/spdx/ghcr.io/acme/api/${DIGEST}-${uuid}`);
    expect(uuid).toMatch(UUID_V5);
    expect(spdx(inventory({ created: '2030-01-01T00:00:00Z' })).documentNamespace).toBe(namespace);
    expect(spdx(inventory({ manifestDigest: OTHER_DIGEST })).documentNamespace).not.toBe(namespace);
  });
});

describe('CycloneDX content', () => {
  it('describes the image as a container with an oci purl', () => {
    const image = cdx().metadata.component;
    expect(image).toMatchObject({ type: 'container', name: 'ghcr.io/acme/api', version: DIGEST });
    expect(image.purl).toBe(
      `pkg:oci/api@sha256%3A${'a'.repeat(64)}?arch=amd64&os=linux&repository_url=ghcr.io%2Facme%2Fapi`,
    );
    const parsed = PackageURL.fromString(image.purl!);
    expect(parsed).toMatchObject({ type: 'oci', name: 'api', version: DIGEST });
    expect(parsed.qualifiers).toEqual({ arch: 'amd64', os: 'linux', repository_url: 'ghcr.io/acme/api' });
    expect(prop(image, 'slipway:image:platform')).toBe('linux/amd64');
    const arm = cdx(inventory({ platform: { os: 'linux', architecture: 'arm', variant: 'v7' } })).metadata.component;
    expect(PackageURL.fromString(arm.purl!).qualifiers).toMatchObject({ arch: 'arm', variant: 'v7' });
  });

  it('names slipway as the tool and the distro as an operating-system component', () => {
    const bom = cdx();
    expect(bom.metadata.tools.components).toEqual([{ type: 'application', name: 'slipway', version: '1.4.0' }]);
    const [os] = component(bom, 'debian');
    expect(os).toMatchObject({ type: 'operating-system', version: '12', 'bom-ref': 'slipway:os/debian@12' });
    expect(bom.components.filter((c) => c.type === 'library')).toHaveLength(PACKAGES.length);
  });

  it('uses the purl as bom-ref, with a package-id when two packages share it', () => {
    const bom = cdx();
    expect(component(bom, 'bash')[0]!['bom-ref']).toBe(PACKAGES[0]!.purl);
    const ms = component(bom, 'ms');
    expect(ms).toHaveLength(2);
    for (const c of ms) expect(c['bom-ref']).toMatch(/^pkg:npm\/ms@2\.1\.3\?package-id=[0-9a-f]{16}$/);
    expect(ms[0]!['bom-ref']).not.toBe(ms[1]!['bom-ref']);
    expect(ms.map((c) => prop(c, 'slipway:location:path'))).toEqual([
      '/app/node_modules/debug/node_modules/ms/package.json',
      '/app/node_modules/ms/package.json',
    ]);
  });

  it('records location, layer, source and metadata as properties', () => {
    const bom = cdx();
    const [libc] = component(bom, 'libc6');
    expect(prop(libc!, 'slipway:location:path')).toBe('/var/lib/dpkg/status');
    expect(prop(libc!, 'slipway:location:layerDigest')).toBe(sha('1'));
    expect(prop(libc!, 'slipway:location:layerDiffId')).toBe(sha('4'));
    expect(prop(libc!, 'slipway:source:name')).toBe('glibc');
    expect(prop(libc!, 'slipway:source:version')).toBe('2.36-9+deb12u8');
    const [stdlib] = component(bom, 'stdlib');
    expect(prop(stdlib!, 'slipway:location:layerDigest')).toBe(sha('3'));
    expect(prop(stdlib!, 'slipway:metadata:goVersion')).toBe('go1.22.1');
  });

  it('writes SPDX ids, expressions and names for licences', () => {
    const bom = cdx();
    const licences = (name: string) => component(bom, name)[0]!.licenses;
    expect(licences('bash')).toEqual([{ license: { id: 'GPL-3.0-or-later' } }]);
    expect(licences('@types/node')).toEqual([{ license: { id: 'MIT' } }]);
    expect(licences('rc')).toEqual([{ expression: 'BSD-2-Clause OR MIT OR Apache-2.0' }]);
    expect(licences('jaxb-runtime')).toEqual([{ expression: 'GPL-2.0-only WITH Classpath-exception-2.0' }]);
    expect(licences('requests')).toEqual([{ license: { name: 'Apache 2.0' } }]);
    expect(licences('libc6')).toEqual([
      { license: { id: 'GPL-2.0' } },
      { license: { id: 'LGPL-2.1' } },
      { license: { name: 'public-domain' } },
    ]);
    expect(licences('tzdata')).toBeUndefined();
  });

  it('makes the image the root of the dependency graph', () => {
    const bom = cdx();
    const root = bom.dependencies.find((d) => d.ref === bom.metadata.component['bom-ref'])!;
    expect(root.dependsOn).toEqual(bom.components.map((c) => c['bom-ref']));
  });
});

describe('SPDX content', () => {
  it('has the document header and creation info', () => {
    const doc = spdx() as unknown as Record<string, unknown> & SpdxDocument;
    expect(doc).toMatchObject({ spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT' });
    expect(doc.name).toBe(`ghcr.io/acme/api@${DIGEST}`);
    expect(doc.creationInfo.creators).toEqual(['Tool: slipway-1.4.0']);
  });

  it('describes the image as a CONTAINER package with its checksum and purl', () => {
    const doc = spdx();
    const image = doc.packages[0]!;
    expect(image).toMatchObject({
      SPDXID: 'SPDXRef-Image',
      name: 'ghcr.io/acme/api',
      primaryPackagePurpose: 'CONTAINER',
    });
    expect(image.checksums).toEqual([{ algorithm: 'SHA256', checksumValue: 'a'.repeat(64) }]);
    expect(image.externalRefs?.[0]?.referenceLocator).toMatch(/^pkg:oci\/api@sha256%3A/);
    expect(doc.packages[1]).toMatchObject({
      name: 'debian',
      versionInfo: '12',
      primaryPackagePurpose: 'OPERATING_SYSTEM',
    });
  });

  it('gives each package a stable, unique SPDXID and a purl reference', () => {
    const doc = spdx();
    const ids = doc.packages.map((p) => p.SPDXID);
    expect(new Set(ids).size).toBe(ids.length);
    const babel = spdxPackage(doc, '@babel/core');
    expect(babel.SPDXID).toMatch(/^SPDXRef-Package-npm-babel-core-[0-9a-f]{16}$/);
    expect(babel.externalRefs).toEqual([
      { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:npm/%40babel/core@7.24.0' },
    ]);
    expect(doc.packages.filter((p) => p.name === 'ms').map((p) => p.SPDXID)).toHaveLength(2);
  });

  it('declares licences as SPDX expressions, LicenseRefs or NOASSERTION', () => {
    const doc = spdx();
    expect(spdxPackage(doc, 'bash').licenseDeclared).toBe('GPL-3.0-or-later');
    expect(spdxPackage(doc, '@types/node').licenseDeclared).toBe('MIT');
    expect(spdxPackage(doc, 'rc').licenseDeclared).toBe('BSD-2-Clause OR MIT OR Apache-2.0');
    expect(spdxPackage(doc, 'libc6').licenseDeclared).toBe('GPL-2.0 AND LGPL-2.1 AND LicenseRef-public-domain');
    expect(spdxPackage(doc, 'requests').licenseDeclared).toBe('LicenseRef-Apache-2.0');
    expect(spdxPackage(doc, 'jackson-databind').licenseDeclared).toBe(
      'LicenseRef-The-Apache-Software-License-Version-2.0',
    );
    expect(spdxPackage(doc, 'tzdata').licenseDeclared).toBe('NOASSERTION');
    expect(doc.hasExtractedLicensingInfos?.map((l) => [l.licenseId, l.extractedText])).toEqual([
      ['LicenseRef-Apache-2.0', 'Apache 2.0'],
      ['LicenseRef-The-Apache-Software-License-Version-2.0', 'The Apache Software License, Version 2.0'],
      ['LicenseRef-public-domain', 'public-domain'],
    ]);
  });

  it('relates the document to the image and the image to every package', () => {
    const doc = spdx();
    expect(doc.relationships[0]).toEqual({
      spdxElementId: 'SPDXRef-DOCUMENT',
      relationshipType: 'DESCRIBES',
      relatedSpdxElement: 'SPDXRef-Image',
    });
    const contained = doc.relationships.filter((r) => r.relationshipType === 'CONTAINS');
    expect(contained.map((r) => r.relatedSpdxElement)).toEqual(doc.packages.slice(1).map((p) => p.SPDXID));
    expect(contained.every((r) => r.spdxElementId === 'SPDXRef-Image')).toBe(true);
  });
});

describe('licence references', () => {
  const odd = inventory({
    packages: [
      pkg({
        ecosystem: 'npm',
        name: 'acme-sdk',
        version: '1.0.0',
        purl: 'pkg:npm/acme-sdk@1.0.0',
        licenses: ['LicenseRef-Acme-Proprietary'],
        path: 'app/node_modules/acme-sdk/package.json',
      }),
      pkg({
        ecosystem: 'pypi',
        name: 'acme',
        version: '1.0.0',
        purl: 'pkg:pypi/acme@1.0.0',
        licenses: ['Acme Proprietary', 'DocumentRef-other:LicenseRef-x'],
        path: 'usr/lib/python3/dist-packages/acme-1.0.0.dist-info/METADATA',
      }),
      pkg({
        ecosystem: 'golang',
        name: 'github.com/acme/tool',
        version: 'v1.0.0',
        purl: 'pkg:golang/github.com/acme/tool@v1.0.0#cmd/tool',
        licenses: [],
        path: 'usr/bin/tool-a',
      }),
      pkg({
        ecosystem: 'golang',
        name: 'github.com/acme/tool',
        version: 'v1.0.0',
        purl: 'pkg:golang/github.com/acme/tool@v1.0.0#cmd/tool',
        licenses: [],
        path: 'usr/bin/tool-b',
      }),
    ],
  });

  it('defines declared LicenseRefs and keeps generated ones from clashing with them', async () => {
    const doc = spdx(odd);
    expect(validateSpdx(writeSpdx(odd, TOOL), SPDX_SCHEMA)).toEqual([]);
    expect(await validateCycloneDx(writeCycloneDx(odd, TOOL))).toEqual([]);
    expect(spdxPackage(doc, 'acme-sdk').licenseDeclared).toBe('LicenseRef-Acme-Proprietary');
    const generated = spdxPackage(doc, 'acme').licenseDeclared;
    expect(generated).toMatch(
      /^LicenseRef-Acme-Proprietary-[0-9a-f]{8} AND LicenseRef-DocumentRef-other-LicenseRef-x$/,
    );
    const ids = doc.hasExtractedLicensingInfos?.map((l) => l.licenseId) ?? [];
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('LicenseRef-Acme-Proprietary');
  });

  it('puts the package-id qualifier before a purl subpath', () => {
    const refs = cdx(odd)
      .components.filter((c) => c.name === 'github.com/acme/tool')
      .map((c) => c['bom-ref']);
    expect(refs).toHaveLength(2);
    for (const ref of refs)
      expect(ref).toMatch(/^pkg:golang\/github\.com\/acme\/tool@v1\.0\.0\?package-id=[0-9a-f]{16}#cmd\/tool$/);
  });
});

describe('readLicence', () => {
  it('re-renders valid expressions canonically and keeps free text', () => {
    expect(readLicence('MIT')).toEqual({ valid: true, expression: 'MIT', compound: false, simpleId: 'MIT' });
    expect(readLicence('apache-2.0')).toMatchObject({ valid: true, expression: 'Apache-2.0' });
    expect(readLicence('(MIT OR Apache-2.0) AND BSD-3-Clause')).toMatchObject({
      expression: '(MIT OR Apache-2.0) AND BSD-3-Clause',
      compound: true,
    });
    expect(readLicence('GPL-2.0+')).toEqual({ valid: true, expression: 'GPL-2.0+', compound: false });
    expect(readLicence(' see LICENSE ')).toEqual({ valid: false, text: 'see LICENSE' });
  });
});
