import factory

from kehu.accounts.tests.factories import UserFactory
from kehu.customers.models import Contact, Customer, CustomerKind


class CustomerFactory(factory.django.DjangoModelFactory[Customer]):
    class Meta:
        model = Customer
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"C{n:06d}")
    name = factory.Sequence(lambda n: f"客户{n}有限公司")
    kind = CustomerKind.BUSINESS
    owner = factory.SubFactory(UserFactory)


class ContactFactory(factory.django.DjangoModelFactory[Contact]):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"联系人{n}")
