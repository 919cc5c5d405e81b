"""A minimal WSDL 1.1 per endpoint: document/literal, loose types, a relative address (no hostnames)."""

from __future__ import annotations

from simulators.billing.soap import NS, SOAP_ENV


def wsdl(service: str, path: str, operations: list[str], encoding: str = "utf-8") -> bytes:
    elements = "".join(
        f'<s:element name="{op}"><s:complexType><s:sequence><s:any minOccurs="0" maxOccurs="unbounded"/>'
        f"</s:sequence></s:complexType></s:element>"
        f'<s:element name="{op}Response"><s:complexType><s:sequence>'
        f'<s:any minOccurs="0" maxOccurs="unbounded"/></s:sequence></s:complexType></s:element>'
        for op in operations
    )
    messages = "".join(
        f'<wsdl:message name="{op}SoapIn"><wsdl:part name="parameters" element="tns:{op}"/></wsdl:message>'
        f'<wsdl:message name="{op}SoapOut"><wsdl:part name="parameters" element="tns:{op}Response"/>'
        f"</wsdl:message>"
        for op in operations
    )
    port_ops = "".join(
        f'<wsdl:operation name="{op}"><wsdl:input message="tns:{op}SoapIn"/>'
        f'<wsdl:output message="tns:{op}SoapOut"/></wsdl:operation>'
        for op in operations
    )
    binding_ops = "".join(
        f'<wsdl:operation name="{op}"><soap:operation soapAction="{NS}/{op}" style="document"/>'
        f'<wsdl:input><soap:body use="literal"/></wsdl:input>'
        f'<wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>'
        for op in operations
    )
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?>'
        f'<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
        f'xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/" xmlns:s="http://www.w3.org/2001/XMLSchema" '
        f'xmlns:tns="{NS}" targetNamespace="{NS}" name="{service}">'
        f"<wsdl:documentation>营收系统 {service} (SOAP 1.1, envelope {SOAP_ENV})</wsdl:documentation>"
        f'<wsdl:types><s:schema elementFormDefault="qualified" targetNamespace="{NS}">{elements}</s:schema>'
        f"</wsdl:types>{messages}"
        f'<wsdl:portType name="{service}Soap">{port_ops}</wsdl:portType>'
        f'<wsdl:binding name="{service}Soap" type="tns:{service}Soap">'
        f'<soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>{binding_ops}</wsdl:binding>'
        f'<wsdl:service name="{service}"><wsdl:port name="{service}Soap" binding="tns:{service}Soap">'
        f'<soap:address location="{path}"/></wsdl:port></wsdl:service></wsdl:definitions>'
    )
    return text.encode(encoding)
