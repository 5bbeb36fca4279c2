import DockerOps
import Testing

/// Image names as Docker reads them: Connectware's images are found whatever registry they
/// come from (the vendor's, a plant's mirror, the lab's 127.0.0.1:PORT).
struct ImageReferenceTests {
    @Test func theVendorsNameSplitsIntoRegistryRepositoryAndTag() throws {
        let reference = try #require(ImageReference("registry.cybus.io/cybus/postgresql:1.7.3"))
        #expect(reference.registry == "registry.cybus.io")
        #expect(reference.repository == "cybus/postgresql")
        #expect(reference.tag == "1.7.3")
        #expect(reference.connectwareImage == "postgresql")
    }

    @Test func aMirrorWithAPortAndAPathPrefixIsStillAConnectwareImage() throws {
        let lab = try #require(ImageReference("127.0.0.1:45807/cybus/admin-web-app:1.8.0"))
        #expect(lab.registry == "127.0.0.1:45807")
        #expect(lab.repository == "cybus/admin-web-app")
        #expect(lab.connectwareImage == "admin-web-app")
        let mirror = try #require(ImageReference("mirror.plant.example/vendors/cybus/ingress:1.10.2@sha256:abc"))
        #expect(mirror.registry == "mirror.plant.example")
        #expect(mirror.repository == "vendors/cybus/ingress")
        #expect(mirror.tag == "1.10.2")
        #expect(mirror.connectwareImage == "ingress")
    }

    @Test func dockerHubNamesAndOtherImagesAreToldApart() throws {
        let hub = try #require(ImageReference("cybus/workbench:1.7.3"))
        #expect(hub.registry == "docker.io")
        #expect(hub.connectwareImage == "workbench")
        let busybox = try #require(ImageReference("busybox:latest"))
        #expect(busybox.repository == "library/busybox")
        #expect(busybox.connectwareImage == nil)
        #expect(ImageReference("registry.cybus.io/other/postgresql:1.7.3")?.connectwareImage == nil)
        #expect(ImageReference("registry.cybus.io/cybus/postgresql:") == nil)
        #expect(ImageReference("localhost:5000/cybus/broker")?.tag == nil)
    }
}
